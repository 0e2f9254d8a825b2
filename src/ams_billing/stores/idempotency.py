"""The idempotency ledger's records in the database (:class:`SqlIdempotencyStore`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ams_billing.core.ledger import IdempotencyRecord, RecordState
from ams_billing.stores._clock import Clock, utc_now
from ams_billing.stores._upsert import upsert
from ams_billing.stores.database import read_transaction, write_transaction
from ams_billing.stores.schema import idempotency_records

__all__ = ["SqlIdempotencyStore"]

_table = idempotency_records


class SqlIdempotencyStore:
    """An :class:`~ams_billing.core.ledger.IdempotencyStore` in one table.

    Each call is one transaction; :meth:`put` is a single upsert, so concurrent writers of one
    key leave one whole record (the last), never a mix. Keys are kept until deleted (the
    in-memory store forgets the oldest past its bound; a database has room).
    """

    def __init__(self, engine: Engine, *, now: Clock | None = None) -> None:
        self.engine = engine
        self._now = now or utc_now

    def __repr__(self) -> str:
        return f"<SqlIdempotencyStore {self.engine.url.render_as_string(hide_password=True)}>"

    def get(self, key: str) -> IdempotencyRecord | None:
        """Return the record of ``key``, or ``None``."""
        with read_transaction(self.engine) as connection:
            row = connection.execute(sa.select(_table).where(_table.c.key == key)).one_or_none()
        return None if row is None else _record(row)

    def put(self, key: str, record: IdempotencyRecord) -> None:
        """Store (or replace) the record of ``key``, committed before returning."""
        values = {
            "key": key,
            "operation": record.operation,
            "fingerprint": record.fingerprint,
            "state": record.state.value,
            "result": record.result,
            "detail": record.detail,
            "updated_at": self._now(),
        }
        with write_transaction(self.engine) as connection:
            upsert(connection, _table, values)

    def delete(self, key: str) -> None:
        """Forget ``key``; an unknown key is no error."""
        with write_transaction(self.engine) as connection:
            connection.execute(sa.delete(_table).where(_table.c.key == key))

    def pending(self) -> dict[str, IdempotencyRecord]:
        """The records whose outcome is still unknown (for diagnostics)."""
        query = sa.select(_table).where(_table.c.state == RecordState.PENDING.value)
        with read_transaction(self.engine) as connection:
            return {row.key: _record(row) for row in connection.execute(query)}


def _record(row: sa.Row[Any]) -> IdempotencyRecord:
    return IdempotencyRecord(
        operation=row.operation,
        fingerprint=row.fingerprint,
        state=RecordState(row.state),
        result=row.result,
        detail=row.detail,
    )
