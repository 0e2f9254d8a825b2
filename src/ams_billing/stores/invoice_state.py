"""The tracker's last-seen invoice states in the database (:class:`SqlInvoiceStateStore`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ams_billing.core.models import InvoiceStatus
from ams_billing.core.tracking import InvoiceSnapshot, StaleRead, _is_newer
from ams_billing.stores._clock import Clock, utc_now
from ams_billing.stores._upsert import insert_or_ignore
from ams_billing.stores.database import read_transaction, write_transaction
from ams_billing.stores.schema import invoice_snapshots

__all__ = ["SqlInvoiceStateStore"]

_table = invoice_snapshots


class SqlInvoiceStateStore:
    """An :class:`~ams_billing.core.tracking.InvoiceStateStore` in one table.

    :meth:`put_if_newer` decides and writes in one transaction, atomic across processes and
    machines: it inserts the row if the invoice is new (``ON CONFLICT DO NOTHING``, which waits
    for a concurrent insert of the same invoice), else locks the row (``SELECT ... FOR UPDATE``
    on PostgreSQL; the writer lock on SQLite) and replaces it only when the snapshot is newer
    by the tracker's own rule. Of processes racing with different reads of one invoice, the
    newest read is what stays, and each one's answer (the snapshot it replaced, or
    :class:`~ams_billing.core.tracking.StaleRead`) is what it really did.
    """

    def __init__(self, engine: Engine, *, now: Clock | None = None) -> None:
        self.engine = engine
        self._now = now or utc_now

    def __repr__(self) -> str:
        return f"<SqlInvoiceStateStore {self.engine.url.render_as_string(hide_password=True)}>"

    def get(self, invoice_id: str) -> InvoiceSnapshot | None:
        """Return the stored snapshot, or ``None`` for an invoice never seen."""
        query = sa.select(_table).where(_table.c.invoice_id == invoice_id)
        with read_transaction(self.engine) as connection:
            row = connection.execute(query).one_or_none()
        return None if row is None else _snapshot(row)

    def put_if_newer(self, invoice_id: str, snapshot: InvoiceSnapshot) -> InvoiceSnapshot | None:
        """Atomically store ``snapshot`` unless the stored one is newer or equal.

        Returns the snapshot replaced (``None`` if there was none); raises
        :class:`~ams_billing.core.tracking.StaleRead` when the stored one was kept, and
        :class:`ValueError` for a naive ``updated_at`` (its instant would be a guess).
        """
        if snapshot.updated_at.utcoffset() is None:
            raise ValueError(f"updated_at must be timezone-aware, not {snapshot.updated_at!r}")
        values = {
            "status": snapshot.status.value,
            "amount_paid": snapshot.amount_paid,
            "updated_at": snapshot.updated_at,
            "stored_at": self._now(),
        }
        with write_transaction(self.engine) as connection:
            if insert_or_ignore(connection, _table, {"invoice_id": invoice_id, **values}):
                return None
            row = connection.execute(
                sa.select(_table).where(_table.c.invoice_id == invoice_id).with_for_update()
            ).one()
            previous = _snapshot(row)
            if not _is_newer(snapshot, previous):
                raise StaleRead  # leaving the block rolls back: nothing was written
            connection.execute(
                sa.update(_table).where(_table.c.invoice_id == invoice_id).values(**values)
            )
        return previous


def _snapshot(row: sa.Row[Any]) -> InvoiceSnapshot:
    return InvoiceSnapshot(InvoiceStatus(row.status), row.amount_paid, row.updated_at)
