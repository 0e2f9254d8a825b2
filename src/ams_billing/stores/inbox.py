"""Verified webhook deliveries in the database, leased to workers (:class:`SqlWebhookInbox`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ams_billing.core.convert import structure, unstructure
from ams_billing.core.inbox import InboxEntry
from ams_billing.core.models import WebhookDelivery
from ams_billing.stores._clock import Clock, utc_now
from ams_billing.stores.database import read_transaction, write_transaction
from ams_billing.stores.schema import inbox_entries

__all__ = ["SqlWebhookInbox"]

_table = inbox_entries
_CHUNK = 500  # ids per statement: well inside every database's limit on bound parameters


class SqlWebhookInbox:
    """A :class:`~ams_billing.core.inbox.WebhookInbox` in one table, shared by processes.

    Behaves as :class:`~ams_billing.core.inbox.InMemoryWebhookInbox` does, durably:

    - :meth:`add` commits before it returns (the endpoint may then answer 200);
    - :meth:`claim` leases entries that are neither done nor leased, in the order they were
      added. The lease's expiry is stored in the row, so an entry whose worker died is
      claimable again once it passes (its ``attempts`` then rise). Two workers never hold one
      live entry: on PostgreSQL the claiming transaction takes the rows with
      ``SELECT ... FOR UPDATE SKIP LOCKED`` (concurrent claimers pass over each other's rows
      instead of waiting); on SQLite it holds the database's writer lock (``BEGIN IMMEDIATE``);
    - leases are measured by this process's clock (``now``): hosts sharing a database need
      synchronised clocks (NTP), and a lease should be far longer than any skew.

    The delivery is stored as JSON through the core converter: exact amounts and instants.
    """

    def __init__(self, engine: Engine, *, now: Clock | None = None) -> None:
        self.engine = engine
        self._now = now or utc_now

    def __repr__(self) -> str:
        return f"<SqlWebhookInbox {self.engine.url.render_as_string(hide_password=True)}>"

    def add(self, delivery: WebhookDelivery) -> str:
        """Keep ``delivery``, committed before returning; returns its entry id."""
        entry_id = uuid.uuid4().hex
        payload = json.dumps(unstructure(delivery), separators=(",", ":"), ensure_ascii=False)
        with write_transaction(self.engine) as connection:
            connection.execute(
                sa.insert(_table).values(
                    entry_id=entry_id, delivery=payload, received_at=self._now()
                )
            )
        return entry_id

    def claim(self, limit: int, lease_seconds: float) -> list[InboxEntry]:
        """Lease up to ``limit`` entries that are neither done nor leased, oldest first."""
        if limit <= 0:
            return []
        now = self._now()
        until = now + timedelta(seconds=lease_seconds)
        query = (
            sa.select(_table)
            .where(
                _table.c.done == sa.false(),
                sa.or_(_table.c.leased_until.is_(None), _table.c.leased_until <= now),
            )
            .order_by(_table.c.position)
            .limit(limit)
        )
        with write_transaction(self.engine) as connection:
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = connection.execute(query).all()
            if not rows:
                return []
            positions = [row.position for row in rows]
            connection.execute(
                sa.update(_table)
                .where(_table.c.position.in_(positions))
                .values(
                    # An expired lease counts as an attempt, as in InMemoryWebhookInbox.
                    attempts=_table.c.attempts
                    + sa.case((_table.c.leased_until.is_(None), 0), else_=1),
                    leased_until=until,
                )
            )
        return [_entry(row, expired=row.leased_until is not None) for row in rows]

    def complete(self, entry_ids: Sequence[str]) -> None:
        """Mark entries done: their listeners were told. Unknown ids are ignored."""
        now = self._now()
        with write_transaction(self.engine) as connection:
            for chunk in _chunks(entry_ids):
                connection.execute(
                    sa.update(_table)
                    .where(_table.c.entry_id.in_(chunk), _table.c.done == sa.false())
                    .values(done=True, leased_until=None, completed_at=now)
                )

    def release(self, entry_ids: Sequence[str]) -> None:
        """Give entries back at once for a later attempt (their ``attempts`` rise)."""
        with write_transaction(self.engine) as connection:
            for chunk in _chunks(entry_ids):
                connection.execute(
                    sa.update(_table)
                    .where(_table.c.entry_id.in_(chunk), _table.c.done == sa.false())
                    .values(attempts=_table.c.attempts + 1, leased_until=None)
                )

    def pending(self) -> int:
        """How many entries are not done (leased or not)."""
        query = sa.select(sa.func.count()).select_from(_table).where(_table.c.done == sa.false())
        with read_transaction(self.engine) as connection:
            return int(connection.execute(query).scalar_one())

    def purge_completed(self, before: datetime) -> int:
        """Delete entries completed before ``before``; returns how many (not in the protocol).

        Entries completed before schema revision 0002 have no completion time and stay.
        """
        with write_transaction(self.engine) as connection:
            result = connection.execute(
                sa.delete(_table).where(
                    _table.c.done == sa.true(),
                    _table.c.completed_at.is_not(None),
                    _table.c.completed_at < before,
                )
            )
        return int(result.rowcount)


def _entry(row: sa.Row[Any], *, expired: bool) -> InboxEntry:
    return InboxEntry(
        entry_id=row.entry_id,
        delivery=structure(json.loads(row.delivery), WebhookDelivery),
        received_at=row.received_at,
        attempts=row.attempts + (1 if expired else 0),
    )


def _chunks(entry_ids: Sequence[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(entry_ids))
    for start in range(0, len(unique), _CHUNK):
        yield unique[start : start + _CHUNK]
