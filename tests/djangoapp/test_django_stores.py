"""The Django stores keep the protocols exactly as the in-memory references do.

Every behaviour test runs on the reference and on the Django store, on this run's database
(a SQLite file, or PostgreSQL when test_django_postgres.py runs this folder again).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import QuerySet

from ams_billing.contrib.django.models import InboxEntryRow, InvoiceSnapshotRow
from ams_billing.contrib.django.stores import (
    DjangoIdempotencyStore,
    DjangoInvoiceStateStore,
    DjangoWebhookInbox,
)
from ams_billing.core.inbox import InMemoryWebhookInbox, WebhookInbox
from ams_billing.core.models import (
    EventCategory,
    EventType,
    InvoiceStatus,
    WebhookDelivery,
    WebhookEvent,
)
from ams_billing.core.tracking import (
    InMemoryInvoiceStateStore,
    InvoiceSnapshot,
    InvoiceStateStore,
    StaleRead,
)
from ams_billing.providers.xero.ledger import (
    IdempotencyRecord,
    IdempotencyStore,
    InMemoryIdempotencyStore,
    RecordState,
)
from django_test_settings import POSTGRES_PORT_VARIABLE

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 7, 1, 9, 30, 15, 123456, tzinfo=UTC)


def delivery(*invoice_ids: str, sequence: int = 1) -> WebhookDelivery:
    return WebhookDelivery(
        events=tuple(
            WebhookEvent(
                EventCategory.INVOICE,
                EventType.UPDATE,
                invoice_id,
                T0,
                tenant_id="tenant-1",
                resource_url=f"https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}",
            )
            for invoice_id in invoice_ids
        ),
        first_sequence=sequence,
        last_sequence=sequence,
    )


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# -- idempotency records ---------------------------------------------------------------------


@pytest.fixture(params=["memory", "django"])
def ledger(request: pytest.FixtureRequest) -> IdempotencyStore:
    return InMemoryIdempotencyStore() if request.param == "memory" else DjangoIdempotencyStore()


def test_an_unknown_key_has_no_record(ledger: IdempotencyStore) -> None:
    assert ledger.get("invoice:nobody") is None


def test_a_record_is_kept_replaced_and_forgotten(ledger: IdempotencyStore) -> None:
    pending = IdempotencyRecord("create_invoice", "f" * 64, RecordState.PENDING)
    done = IdempotencyRecord(
        "create_invoice", "f" * 64, RecordState.DONE, result="inv-1", detail="ada@example.org"
    )
    ledger.put("invoice:member-7:2026", pending)
    assert ledger.get("invoice:member-7:2026") == pending
    ledger.put("invoice:member-7:2026", done)
    assert ledger.get("invoice:member-7:2026") == done
    assert ledger.get("invoice:member-8:2026") is None
    ledger.delete("invoice:member-7:2026")
    assert ledger.get("invoice:member-7:2026") is None
    ledger.delete("invoice:member-7:2026")  # forgetting twice is no error


def test_keys_survive_a_new_store_object() -> None:
    record = IdempotencyRecord("create_contact", "a" * 64, RecordState.DONE, result="contact-1")
    DjangoIdempotencyStore().put("contact:acct-1", record)
    assert DjangoIdempotencyStore().get("contact:acct-1") == record


# -- invoice state ---------------------------------------------------------------------------


@pytest.fixture(params=["memory", "django"])
def states(request: pytest.FixtureRequest) -> InvoiceStateStore:
    return InMemoryInvoiceStateStore() if request.param == "memory" else DjangoInvoiceStateStore()


def snap(status: InvoiceStatus, paid: str, at: datetime) -> InvoiceSnapshot:
    return InvoiceSnapshot(status, Decimal(paid), at)


def test_the_first_read_is_stored_and_replaces_nothing(states: InvoiceStateStore) -> None:
    assert states.get("inv-1") is None
    first = snap(InvoiceStatus.OPEN, "0.00", T0)
    assert states.put_if_newer("inv-1", first) is None
    assert states.get("inv-1") == first


def test_a_newer_read_replaces_and_returns_the_previous(states: InvoiceStateStore) -> None:
    first = snap(InvoiceStatus.OPEN, "0.00", T0)
    paid = snap(InvoiceStatus.PAID, "80.00", T0 + timedelta(microseconds=1))
    states.put_if_newer("inv-1", first)
    assert states.put_if_newer("inv-1", paid) == first
    assert states.get("inv-1") == paid


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(seconds=-1)])
def test_an_older_or_equal_read_is_stale_and_changes_nothing(
    states: InvoiceStateStore, delta: timedelta
) -> None:
    paid = snap(InvoiceStatus.PAID, "80.00", T0)
    states.put_if_newer("inv-1", paid)
    with pytest.raises(StaleRead):
        states.put_if_newer("inv-1", snap(InvoiceStatus.PAID, "80.00", T0 + delta))
    with pytest.raises(StaleRead):
        states.put_if_newer("inv-1", snap(InvoiceStatus.OPEN, "0.00", T0 - timedelta(1)))
    assert states.get("inv-1") == paid


def test_within_one_timestamp_the_further_state_wins(states: InvoiceStateStore) -> None:
    part = snap(InvoiceStatus.OPEN, "30.00", T0)
    states.put_if_newer("inv-1", part)
    assert states.put_if_newer("inv-1", snap(InvoiceStatus.PAID, "80.00", T0)) == part
    with pytest.raises(StaleRead):
        states.put_if_newer("inv-1", part)


@pytest.mark.parametrize("status", list(InvoiceStatus), ids=lambda status: status.name)
def test_every_status_is_stored_and_read_back(
    states: InvoiceStateStore, status: InvoiceStatus
) -> None:
    # AWAITING_APPROVAL is 17 characters: a column sized for Xero's names refuses it.
    states.put_if_newer("inv-1", snap(status, "1.00", T0))
    assert states.get("inv-1") == snap(status, "1.00", T0)


def test_a_row_stored_under_xero_s_status_names_reads_as_the_neutral_status() -> None:
    # Rows written before the statuses were neutral hold AUTHORISED, SUBMITTED, VOIDED.
    InvoiceSnapshotRow.objects.create(
        invoice_id="inv-1", status="AUTHORISED", amount_paid=Decimal("30.00"), updated_at=T0
    )
    store = DjangoInvoiceStateStore()
    assert store.get("inv-1") == snap(InvoiceStatus.OPEN, "30.00", T0)
    paid = snap(InvoiceStatus.PAID, "80.00", T0 + timedelta(seconds=1))
    assert store.put_if_newer("inv-1", paid) == snap(InvoiceStatus.OPEN, "30.00", T0)
    assert InvoiceSnapshotRow.objects.get(invoice_id="inv-1").status == "PAID"


def test_amounts_are_exact_and_times_aware(states: InvoiceStateStore) -> None:
    auckland = timezone(timedelta(hours=12))
    at = datetime(2026, 7, 2, 8, 0, 0, 654321, tzinfo=auckland)
    stored = snap(InvoiceStatus.OPEN, "1234567890.1234", at)
    states.put_if_newer("inv-1", stored)
    got = states.get("inv-1")
    assert got is not None
    assert got == stored
    assert got.amount_paid == Decimal("1234567890.1234")
    assert got.updated_at.utcoffset() is not None
    assert got.updated_at == at


def test_an_amount_the_column_cannot_hold_exactly_is_refused_not_rounded() -> None:
    store = DjangoInvoiceStateStore()
    with pytest.raises(ValueError, match="4 decimal places"):
        store.put_if_newer("inv-1", snap(InvoiceStatus.PAID, "10.00001", T0))
    assert store.get("inv-1") is None


def test_a_lost_insert_race_is_read_again_and_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    store = DjangoInvoiceStateStore()
    theirs = snap(InvoiceStatus.PAID, "80.00", T0 + timedelta(seconds=5))
    real_first = QuerySet.first
    raced = []

    def first_then_another_process_inserts(query: QuerySet[Any]) -> Any:
        found = real_first(query)
        if query.model is InvoiceSnapshotRow and not raced:
            raced.append(found)  # between our read and our insert, another process inserts
            InvoiceSnapshotRow.objects.create(
                invoice_id="inv-1", status="PAID", amount_paid=theirs.amount_paid,
                updated_at=theirs.updated_at,
            )  # fmt: skip
        return found

    monkeypatch.setattr(QuerySet, "first", first_then_another_process_inserts)
    with pytest.raises(StaleRead):
        store.put_if_newer("inv-1", snap(InvoiceStatus.OPEN, "0.00", T0))
    assert raced == [None]
    assert store.get("inv-1") == theirs


# -- the inbox -------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "django"])
def inbox_and_clock(request: pytest.FixtureRequest) -> Iterator[tuple[WebhookInbox, Clock]]:
    clock = Clock()
    if request.param == "memory":
        yield InMemoryWebhookInbox(now=clock), clock
    else:
        yield DjangoWebhookInbox(now=clock), clock


def test_entries_are_claimed_oldest_first_as_they_were_kept(
    inbox_and_clock: tuple[WebhookInbox, Clock],
) -> None:
    inbox, clock = inbox_and_clock
    kept = [delivery(f"inv-{n}", "inv-x", sequence=n) for n in range(5)]
    ids = []
    for item in kept:
        ids.append(inbox.add(item))
        clock.advance(1)
    assert len(set(ids)) == 5
    assert inbox.pending() == 5
    first = inbox.claim(3, lease_seconds=60)
    assert [entry.entry_id for entry in first] == ids[:3]
    assert [entry.delivery for entry in first] == kept[:3]
    assert [entry.received_at for entry in first] == [T0 + timedelta(seconds=n) for n in range(3)]
    assert all(entry.attempts == 0 for entry in first)
    second = inbox.claim(10, lease_seconds=60)
    assert [entry.entry_id for entry in second] == ids[3:]
    assert inbox.claim(10, lease_seconds=60) == []
    assert inbox.pending() == 5  # leased is still pending


def test_completed_entries_are_never_claimed_again(
    inbox_and_clock: tuple[WebhookInbox, Clock],
) -> None:
    inbox, clock = inbox_and_clock
    ids = [inbox.add(delivery(f"inv-{n}")) for n in range(3)]
    inbox.claim(3, lease_seconds=60)
    inbox.complete([*ids[:2], "no-such-entry"])
    assert inbox.pending() == 1
    clock.advance(3600)
    assert [entry.entry_id for entry in inbox.claim(10, lease_seconds=60)] == ids[2:]
    inbox.release(ids[:2])  # releasing a done entry does nothing
    assert inbox.pending() == 1


def test_an_expired_lease_is_claimable_again_with_one_more_attempt(
    inbox_and_clock: tuple[WebhookInbox, Clock],
) -> None:
    inbox, clock = inbox_and_clock
    entry_id = inbox.add(delivery("inv-1"))
    (claimed,) = inbox.claim(1, lease_seconds=30)
    assert claimed.attempts == 0
    clock.advance(29)
    assert inbox.claim(1, lease_seconds=30) == []
    clock.advance(1)
    (again,) = inbox.claim(1, lease_seconds=30)
    assert (again.entry_id, again.attempts) == (entry_id, 1)


def test_a_released_entry_is_claimable_at_once_with_one_more_attempt(
    inbox_and_clock: tuple[WebhookInbox, Clock],
) -> None:
    inbox, _ = inbox_and_clock
    entry_id = inbox.add(delivery("inv-1"))
    inbox.claim(1, lease_seconds=300)
    inbox.release([entry_id, "no-such-entry"])
    (again,) = inbox.claim(5, lease_seconds=300)
    assert (again.entry_id, again.attempts) == (entry_id, 1)


def test_the_inbox_survives_a_new_object_and_purges_old_done_entries() -> None:
    clock = Clock()
    entry_id = DjangoWebhookInbox(now=clock).add(delivery("inv-1"))
    inbox = DjangoWebhookInbox(now=clock)
    assert inbox.pending() == 1
    inbox.complete([entry_id])
    clock.advance(3600)
    assert inbox.purge(timedelta(hours=2)) == 0
    assert InboxEntryRow.objects.filter(entry_id=entry_id, done=True).exists()
    assert inbox.purge(timedelta(minutes=30)) == 1
    assert not InboxEntryRow.objects.exists()


# -- the schema ------------------------------------------------------------------------------


def test_the_schema_comes_from_the_committed_migrations() -> None:
    applied = MigrationRecorder(connection).applied_migrations()
    assert ("ams_billing", "0001_initial") in applied
    tables = set(connection.introspection.table_names())
    assert {
        "ams_billing_idempotency_record",
        "ams_billing_invoice_snapshot",
        "ams_billing_inbox_entry",
    } <= tables
    call_command("makemigrations", "ams_billing", check=True, dry_run=True, verbosity=0)


def test_row_locks_are_used_where_the_database_has_them() -> None:
    expected = "postgresql" if os.environ.get(POSTGRES_PORT_VARIABLE) else "sqlite"
    assert connection.vendor == expected
    assert DjangoWebhookInbox()._locks_rows() is (expected == "postgresql")


def test_a_ledger_record_outlives_the_callers_rolled_back_transaction() -> None:
    """Xero keeps an invoice the AMS's rollback forgot; its key must be kept too."""
    from django.db import transaction

    record = IdempotencyRecord("invoice", "f" * 64, RecordState.DONE, result="invoice-1")

    def create_then_fail() -> None:
        with transaction.atomic():
            DjangoIdempotencyStore().put("invoice:membership-7", record)
            raise RuntimeError("the request failed after Xero answered")

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert DjangoIdempotencyStore().get("invoice:membership-7") == record


def test_a_newer_delivered_state_never_moves_an_invoice_back(states: InvoiceStateStore) -> None:
    paid = snap(InvoiceStatus.PAID, "80.00", T0)
    states.put_if_newer("inv-1", paid)
    late = InvoiceSnapshot(InvoiceStatus.OPEN, Decimal("0.00"), T0 + timedelta(1), delivered=True)
    with pytest.raises(StaleRead):
        states.put_if_newer("inv-1", late)
    assert states.get("inv-1") == paid
    # A read from the provider is its present truth: a payment deleted there is recorded.
    reversed_ = snap(InvoiceStatus.OPEN, "0.00", T0 + timedelta(2))
    assert states.put_if_newer("inv-1", reversed_) == paid
