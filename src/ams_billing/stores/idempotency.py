"""The idempotency ledger's records in the database (:class:`SqlIdempotencyStore`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ams_billing.core.keylocks import (
    DEFAULT_LOCK_TIMEOUT,
    hold_advisory_locks,
    hold_file_locks,
)
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

    It is a :class:`~ams_billing.core.ledger.KeyLockingStore`: :meth:`lock` keeps every
    process sharing the database off a key while one works on it, waiting at most
    ``lock_timeout`` seconds.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        now: Clock | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.engine = engine
        self._now = now or utc_now
        self.lock_timeout = lock_timeout

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

    @contextmanager
    def lock(self, *keys: str) -> Iterator[None]:
        """Hold the cross-process lock of every key until the ``with`` block ends.

        - PostgreSQL: session advisory locks (``pg_try_advisory_lock`` on a 64-bit hash of the
          key) on a pooled connection of their own in autocommit, so no transaction stays open
          across the call to the accounting system; a process that dies releases them with its
          connection.
        - SQLite file: ``flock`` on a lock file beside the database (``<database>.locks/``, one
          of 256 by hash of the key); SQLite's own writer lock is never held meanwhile.
        - SQLite in memory: nothing (one process); other databases: nothing either, so there
          only one process is protected.

        Raises a retryable :class:`~ams_billing.core.errors.ProviderUnavailableError` when a
        lock is not had within ``lock_timeout`` seconds.
        """
        dialect = self.engine.dialect.name
        database = self.engine.url.database
        if dialect == "postgresql":
            with self._advisory_locks(keys):
                yield
        elif dialect == "sqlite" and database and database != ":memory:":
            with hold_file_locks(Path(f"{database}.locks"), keys, self.lock_timeout):
                yield
        else:
            yield

    @contextmanager
    def _advisory_locks(self, keys: tuple[str, ...]) -> Iterator[None]:
        with self.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")

            def try_lock(lock_id: int) -> bool:
                query = sa.text("SELECT pg_try_advisory_lock(:id)")
                return bool(connection.execute(query, {"id": lock_id}).scalar_one())

            def unlock(lock_id: int) -> None:
                try:
                    query = sa.text("SELECT pg_advisory_unlock(:id)")
                    connection.execute(query, {"id": lock_id})
                except BaseException:
                    connection.invalidate()  # never back to the pool with a lock on it
                    raise

            namespace = self.engine.url.render_as_string(hide_password=True)
            with hold_advisory_locks(namespace, keys, try_lock, unlock, self.lock_timeout):
                yield

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
