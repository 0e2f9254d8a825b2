"""The three kinds of billing state in the project's own database, through Django's ORM.

- :class:`DjangoIdempotencyStore`: the Xero provider's idempotency records
  (:class:`~ams_billing.providers.xero.ledger.IdempotencyStore`);
- :class:`DjangoInvoiceStateStore`: the last state seen of each invoice
  (:class:`~ams_billing.core.tracking.InvoiceStateStore`);
- :class:`DjangoWebhookInbox`: verified webhook deliveries waiting for processing
  (:class:`~ams_billing.core.inbox.WebhookInbox`).

:func:`~ams_billing.contrib.django.service.get_billing_service` and
:func:`~ams_billing.contrib.django.processing.get_processor` use them when the app
``ams_billing.contrib.django`` is installed. Each write is its own transaction when called in
autocommit mode (the default outside ``transaction.atomic``); inside an atomic block it commits
with that block, as any ORM write does.

Across processes: on PostgreSQL (and any database with ``SELECT ... FOR UPDATE SKIP LOCKED``),
rows are locked: :meth:`DjangoInvoiceStateStore.put_if_newer` holds the invoice's row while it
compares, and :meth:`DjangoWebhookInbox.claim` skips entries another worker is taking. On
SQLite, which has no row locks and one writer at a time, both compare-and-set instead: a write
only lands if the row is still as it was read, and a lost race is read again. Neither ever
waits on another worker's lease.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Q, QuerySet
from django.db.utils import load_backend
from django.utils import timezone

from ams_billing.contrib.django.models import (
    IdempotencyRecordRow,
    InboxEntryRow,
    InvoiceSnapshotRow,
)
from ams_billing.core.convert import structure, unstructure
from ams_billing.core.inbox import InboxEntry
from ams_billing.core.keylocks import DEFAULT_LOCK_TIMEOUT, hold_advisory_locks, hold_file_locks
from ams_billing.core.models import InvoiceStatus, WebhookDelivery
from ams_billing.core.tracking import InvoiceSnapshot, StaleRead, _is_newer
from ams_billing.providers.xero.ledger import IdempotencyRecord, RecordState

__all__ = ["DjangoIdempotencyStore", "DjangoInvoiceStateStore", "DjangoWebhookInbox"]

_RACES = 20
"""How many times a write that lost a race to another process is tried again."""

_AMOUNT_PLACES = Decimal("0.0001")
_AMOUNT_LIMIT = Decimal(10) ** 15  # max_digits=19, decimal_places=4


class _Store:
    """The database a store writes to: ``using``, else the router's choice for its model."""

    model: type[IdempotencyRecordRow] | type[InvoiceSnapshotRow] | type[InboxEntryRow]

    def __init__(self, *, using: str | None = None) -> None:
        self.using = using

    @property
    def db(self) -> str:
        """The database alias."""
        return self.using or router.db_for_write(self.model)

    def _locks_rows(self) -> bool:
        features = connections[self.db].features
        return bool(features.has_select_for_update and features.has_select_for_update_skip_locked)


def _to_db(moment: datetime) -> datetime:
    """An aware datetime as Django stores it: aware UTC, or naive UTC when ``USE_TZ`` is off."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment if settings.USE_TZ else moment.replace(tzinfo=None)


def _from_db(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@contextmanager
def _own_cursor(alias: str) -> Iterator[Any]:
    """A cursor on a connection of its own to ``alias``'s database, in autocommit.

    What the ledger records must outlive the caller's transaction: if the AMS rolls back the
    request that created an invoice, Xero still has the invoice, and forgetting its key would
    make a retry, after Xero's few minutes of ``Idempotency-Key``, a second invoice. So the
    ledger writes on a connection Django's handler does not manage, never in the request's.
    It is closed after each use: one connection per ledger step, next to a call to Xero, and
    nothing left open to hold the database (a test database must be dropped at the end).
    """
    source = connections[alias].settings_dict
    wrapper = load_backend(source["ENGINE"]).DatabaseWrapper(
        {**source, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False}, alias=alias
    )
    try:
        with wrapper.cursor() as cursor:
            yield cursor
    finally:
        wrapper.close()


def _in_memory(alias: str) -> bool:
    source = connections[alias].settings_dict
    name = str(source.get("NAME") or "")
    return bool(
        source["ENGINE"].endswith("sqlite3") and (name in ("", ":memory:") or "memory" in name)
    )


class DjangoIdempotencyStore(_Store):
    """Idempotency records in the table ``ams_billing_idempotency_record``.

    An :class:`~ams_billing.providers.xero.ledger.IdempotencyStore` whose keys survive restarts
    and are shared by every process. It reads and writes on a connection of its own, in
    autocommit, so a record is kept even when the caller's transaction is rolled back (an SQLite
    database in memory has no second connection: there it joins the caller's).

    Keys are kept until deleted (the in-memory store forgets the oldest); a key longer than 255
    characters is refused by the database.

    It is a :class:`~ams_billing.core.ledger.KeyLockingStore` (see :meth:`lock`), waiting at
    most ``lock_timeout`` seconds (the class attribute; set it on an instance to change it).
    """

    lock_timeout: float = DEFAULT_LOCK_TIMEOUT

    model = IdempotencyRecordRow
    _table = IdempotencyRecordRow._meta.db_table
    _columns = ("operation", "fingerprint", "state", "result", "detail")

    def __repr__(self) -> str:
        return f"<DjangoIdempotencyStore using={self.db!r}>"

    def _cursor(self) -> AbstractContextManager[Any]:
        alias = self.db
        return connections[alias].cursor() if _in_memory(alias) else _own_cursor(alias)

    def get(self, key: str) -> IdempotencyRecord | None:
        """Return the record of ``key``, or ``None``."""
        with self._cursor() as cursor:
            cursor.execute(
                f"SELECT operation, fingerprint, state, result, detail FROM {self._table} "  # noqa: S608 - our own table name
                'WHERE "key" = %s',
                [key],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        operation, fingerprint, state, result, detail = row
        return IdempotencyRecord(
            operation=operation,
            fingerprint=fingerprint,
            state=RecordState(state),
            result=result,
            detail=detail,
        )

    def put(self, key: str, record: IdempotencyRecord) -> None:
        """Store (or replace) the record of ``key``, committed at once."""
        now = _to_db(timezone.now())
        values = [record.operation, record.fingerprint, record.state.value, record.result]
        with self._cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self._table} "  # noqa: S608 - our own table name
                '("key", operation, fingerprint, state, result, detail, created_at, updated_at) '
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                'ON CONFLICT ("key") DO UPDATE SET operation = excluded.operation, '
                "fingerprint = excluded.fingerprint, state = excluded.state, "
                "result = excluded.result, detail = excluded.detail, "
                "updated_at = excluded.updated_at",
                [key, *values, record.detail, now, now],
            )

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._cursor() as cursor:
            cursor.execute(f'DELETE FROM {self._table} WHERE "key" = %s', [key])  # noqa: S608

    @contextmanager
    def lock(self, *keys: str) -> Iterator[None]:
        """Hold the cross-process lock of every key until the ``with`` block ends.

        - PostgreSQL: session advisory locks (``pg_try_advisory_lock``) on a connection of the
          store's own, in autocommit, closed afterwards (which releases them in any case);
        - SQLite file: ``flock`` on lock files beside the database (``<NAME>.locks/``);
        - SQLite in memory, and other databases: nothing; only one process is protected.
        """
        alias = self.db
        source = connections[alias].settings_dict
        vendor = connections[alias].vendor
        if vendor == "postgresql":
            with _own_cursor(alias) as cursor:

                def try_lock(lock_id: int) -> bool:
                    cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
                    return bool(cursor.fetchone()[0])

                def unlock(lock_id: int) -> None:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])

                namespace = f"django:{source.get('HOST')}:{source.get('PORT')}:{source['NAME']}"
                with hold_advisory_locks(namespace, keys, try_lock, unlock, self.lock_timeout):
                    yield
        elif vendor == "sqlite" and not _in_memory(alias):
            directory = Path(f"{source['NAME']}.locks")
            with hold_file_locks(directory, keys, self.lock_timeout):
                yield
        else:
            yield


class DjangoInvoiceStateStore(_Store):
    """The last state seen of each invoice, in the table ``ams_billing_invoice_snapshot``.

    An :class:`~ams_billing.core.tracking.InvoiceStateStore`.

    Amounts are exact to four decimal places (an amount with more, or of 10**15 or more, is
    refused rather than rounded); times are stored in UTC and read back aware.
    :meth:`put_if_newer` is atomic across processes: see the module's notes.
    """

    model = InvoiceSnapshotRow

    def __repr__(self) -> str:
        return f"<DjangoInvoiceStateStore using={self.db!r}>"

    def get(self, invoice_id: str) -> InvoiceSnapshot | None:
        """Return the stored snapshot, or ``None`` for an invoice never seen."""
        row = InvoiceSnapshotRow.objects.using(self.db).filter(invoice_id=invoice_id).first()
        return None if row is None else _snapshot(row)

    def put_if_newer(self, invoice_id: str, snapshot: InvoiceSnapshot) -> InvoiceSnapshot | None:
        """Store ``snapshot`` unless the stored one is newer or equal; see the protocol.

        Returns the snapshot replaced (``None`` if there was none); raises
        :class:`~ams_billing.core.tracking.StaleRead` when the stored one was kept.
        """
        amount = snapshot.amount_paid
        if amount.quantize(_AMOUNT_PLACES) != amount or abs(amount) >= _AMOUNT_LIMIT:
            raise ValueError(f"amount_paid {amount} does not fit 4 decimal places exactly")
        fields = {
            "status": snapshot.status.value,
            "amount_paid": amount,
            "updated_at": _to_db(snapshot.updated_at),
        }
        rows = InvoiceSnapshotRow.objects.using(self.db)
        locks = self._locks_rows()
        for _ in range(_RACES):
            # With row locks, one transaction holds the row from the read to the write. Without
            # (SQLite), a transaction that reads then writes can deadlock another process's:
            # each statement commits alone, and the write is conditional on the row's version.
            block: AbstractContextManager[object] = (
                transaction.atomic(using=self.db) if locks else nullcontext()
            )
            with block:
                query = rows.select_for_update() if locks else rows
                row = query.filter(invoice_id=invoice_id).first()
                if row is None:
                    try:
                        with transaction.atomic(using=self.db):
                            rows.create(invoice_id=invoice_id, **fields)
                    except IntegrityError:
                        continue  # inserted by another process meanwhile: read it, compare
                    return None
                previous = _snapshot(row)
                if not _is_newer(snapshot, previous):
                    raise StaleRead
                if rows.filter(invoice_id=invoice_id, version=row.version).update(
                    **fields, version=row.version + 1
                ):
                    return previous
        raise RuntimeError(f"could not store invoice {invoice_id!r} after {_RACES} races")


def _snapshot(row: InvoiceSnapshotRow) -> InvoiceSnapshot:
    return InvoiceSnapshot(
        status=InvoiceStatus(row.status),
        amount_paid=Decimal(row.amount_paid),
        updated_at=_from_db(row.updated_at),
    )


class DjangoWebhookInbox(_Store):
    """A :class:`~ams_billing.core.inbox.WebhookInbox` in the table ``ams_billing_inbox_entry``.

    :meth:`add` commits before it returns when called in autocommit mode; the webhook view
    calls it after the request's transaction under ``ATOMIC_REQUESTS``, so a delivery is
    always committed before the 200 leaves. Done entries stay in the table (with ``done_at``)
    until :meth:`purge` deletes them. Leases are timed by this process's clock.

    :param now: the clock (aware UTC), for tests.
    """

    model = InboxEntryRow

    def __init__(
        self, *, using: str | None = None, now: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(using=using)
        self._now = now or timezone.now

    def __repr__(self) -> str:
        return f"<DjangoWebhookInbox using={self.db!r}>"

    def add(self, delivery: WebhookDelivery) -> str:
        """Keep ``delivery``; returns its entry id."""
        entry_id = uuid.uuid4().hex
        InboxEntryRow.objects.using(self.db).create(
            entry_id=entry_id, delivery=unstructure(delivery), received_at=_to_db(self._now())
        )
        return entry_id

    def claim(self, limit: int, lease_seconds: float) -> list[InboxEntry]:
        """Lease up to ``limit`` entries that are neither done nor leased, oldest first."""
        if limit <= 0:
            return []
        now = self._now()
        until = _to_db(now + timedelta(seconds=lease_seconds))
        free = (
            InboxEntryRow.objects.using(self.db)
            .filter(done=False)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=_to_db(now)))
            .order_by("id")
        )
        if self._locks_rows():
            return self._claim_locked(free, limit, until)
        return self._claim_compare_and_set(free, limit, until)

    def _claim_locked(
        self, free: QuerySet[InboxEntryRow], limit: int, until: datetime
    ) -> list[InboxEntry]:
        with transaction.atomic(using=self.db):
            rows = list(free.select_for_update(skip_locked=True)[:limit])
            expired = [row.pk for row in rows if row.leased_until is not None]
            fresh = [row.pk for row in rows if row.leased_until is None]
            objects = InboxEntryRow.objects.using(self.db)
            objects.filter(pk__in=fresh).update(leased_until=until)
            objects.filter(pk__in=expired).update(leased_until=until, attempts=F("attempts") + 1)
        return [_entry(row, retried=row.leased_until is not None) for row in rows]

    def _claim_compare_and_set(
        self, free: QuerySet[InboxEntryRow], limit: int, until: datetime
    ) -> list[InboxEntry]:
        taken: list[InboxEntry] = []
        taken_pks: list[int] = []
        objects = InboxEntryRow.objects.using(self.db)
        for _ in range(_RACES):
            lost = False
            rows = list(free.exclude(pk__in=taken_pks)[: limit - len(taken)])
            for row in rows:
                same = objects.filter(pk=row.pk, done=False, attempts=row.attempts)
                if row.leased_until is None:
                    won = same.filter(leased_until__isnull=True).update(leased_until=until)
                else:
                    won = same.filter(leased_until=row.leased_until).update(
                        leased_until=until, attempts=row.attempts + 1
                    )
                if won:
                    taken_pks.append(row.pk)
                    taken.append(_entry(row, retried=row.leased_until is not None))
                else:
                    lost = True  # another worker took it between our read and our write
            if not lost or len(taken) >= limit or not rows:
                break
        return taken

    def complete(self, entry_ids: Sequence[str]) -> None:
        """Mark entries done: their listeners were told. Unknown ids are ignored."""
        InboxEntryRow.objects.using(self.db).filter(entry_id__in=list(entry_ids)).update(
            done=True, leased_until=None, done_at=_to_db(self._now())
        )

    def release(self, entry_ids: Sequence[str]) -> None:
        """Give leased entries back at once, for a later attempt (their ``attempts`` rise)."""
        InboxEntryRow.objects.using(self.db).filter(
            entry_id__in=list(entry_ids), done=False
        ).update(leased_until=None, attempts=F("attempts") + 1)

    def pending(self) -> int:
        """How many entries are not done (leased or not)."""
        return InboxEntryRow.objects.using(self.db).filter(done=False).count()

    def purge(self, older_than: timedelta) -> int:
        """Delete the entries done more than ``older_than`` ago; returns how many."""
        cutoff = _to_db(self._now() - older_than)
        deleted, _ = (
            InboxEntryRow.objects.using(self.db).filter(done=True, done_at__lt=cutoff).delete()
        )
        return deleted


def _entry(row: InboxEntryRow, *, retried: bool) -> InboxEntry:
    return InboxEntry(
        entry_id=row.entry_id,
        delivery=structure(row.delivery, WebhookDelivery),
        received_at=_from_db(row.received_at),
        attempts=row.attempts + (1 if retried else 0),
    )
