from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from ams_billing import (
    AmountType,
    ChangeKind,
    ContactRecord,
    InMemoryInvoiceStateStore,
    Invoice,
    InvoiceSnapshot,
    InvoiceStatus,
)
from ams_billing.core.tracking import InvoiceTracker

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def read(status: InvoiceStatus, paid: str, seconds: int, total: str = "100.00") -> Invoice:
    return Invoice(
        provider_id="inv-1",
        number="INV-0001",
        status=status,
        contact=ContactRecord("c-1", "acct-1", "Ada"),
        currency="NZD",
        issue_date=T0.date(),
        due_date=None,
        reference=None,
        amount_type=AmountType.EXCLUSIVE,
        subtotal=Decimal(total),
        total_tax=Decimal(0),
        total=Decimal(total),
        amount_paid=Decimal(paid),
        amount_due=Decimal(total) - Decimal(paid),
        updated_at=T0 + timedelta(seconds=seconds),
    )


OPEN_UNPAID = read(InvoiceStatus.OPEN, "0", 0)
PARTLY = read(InvoiceStatus.OPEN, "40", 10)
PAID = read(InvoiceStatus.PAID, "100", 20)


def kinds(tracker: InvoiceTracker, *reads: Invoice) -> list[ChangeKind]:
    return [change.kind for change in tracker.observe(reads)]


def test_a_fresh_unpaid_invoice_is_not_news() -> None:
    assert kinds(InvoiceTracker(), OPEN_UNPAID) == []


def test_payments_are_reported_in_order_once() -> None:
    tracker = InvoiceTracker()
    assert kinds(tracker, OPEN_UNPAID) == []
    assert kinds(tracker, PARTLY) == [ChangeKind.PARTIALLY_PAID]
    assert kinds(tracker, PARTLY) == []
    assert kinds(tracker, PAID) == [ChangeKind.PAID]
    assert kinds(tracker, PAID, PARTLY, OPEN_UNPAID) == []


def test_a_stale_read_never_moves_an_invoice_back_from_paid() -> None:
    tracker = InvoiceTracker()
    assert kinds(tracker, PAID) == [ChangeKind.PAID]
    assert kinds(tracker, PARTLY) == []
    assert tracker.store.get("inv-1") == InvoiceSnapshot.of(PAID)


def test_a_later_payment_reversal_is_reported() -> None:
    tracker = InvoiceTracker()
    kinds(tracker, PAID)
    reversed_ = read(InvoiceStatus.OPEN, "0", 30)
    assert kinds(tracker, reversed_) == [ChangeKind.UPDATED]


def test_a_later_delivered_state_never_moves_an_invoice_back() -> None:
    # A snapshot event about the part payment, stamped after the payment (a provider that
    # dates states on receipt, or a clock ahead), arrives after the invoice was seen PAID.
    tracker = InvoiceTracker()
    kinds(tracker, PAID)
    late = attrs.evolve(PARTLY, updated_at=PAID.updated_at + timedelta(seconds=5))
    assert [c.kind for c in tracker.observe([], delivered=[late])] == []
    assert tracker.store.get("inv-1") == InvoiceSnapshot.of(PAID)


def test_a_delivered_state_further_along_is_reported() -> None:
    tracker = InvoiceTracker()
    kinds(tracker, OPEN_UNPAID)
    assert [c.kind for c in tracker.observe([], delivered=[PARTLY, PAID])] == [
        ChangeKind.PARTIALLY_PAID,
        ChangeKind.PAID,
    ]


def test_two_reads_stamped_alike_keep_the_further_state() -> None:
    store = InMemoryInvoiceStateStore()
    tracker = InvoiceTracker(store)
    same_time_paid = attrs.evolve(PAID, updated_at=PARTLY.updated_at)
    assert kinds(tracker, same_time_paid) == [ChangeKind.PAID]
    assert kinds(tracker, PARTLY) == []


history = [
    OPEN_UNPAID,
    PARTLY,
    read(InvoiceStatus.OPEN, "70", 15),
    PAID,
]


@given(st.lists(st.integers(0, len(history) - 1), min_size=1, max_size=12), st.randoms())
def test_any_order_of_deliveries_ends_at_the_newest_state(
    picks: list[int], rng: random.Random
) -> None:
    tracker = InvoiceTracker()
    reported: list[ChangeKind] = []
    batches = [[history[i]] for i in picks]
    rng.shuffle(batches)
    for batch in batches:
        reported += kinds(tracker, *batch)
    newest = max((history[i] for i in picks), key=lambda invoice: invoice.updated_at)
    assert tracker.store.get("inv-1") == InvoiceSnapshot.of(newest)
    assert reported.count(ChangeKind.PAID) == (1 if newest.is_paid else 0)
    if reported:
        assert reported[-1] is not ChangeKind.UPDATED, "no read moves the invoice backwards"


def test_a_write_off_is_told_to_listeners_as_written_off() -> None:
    tracker = InvoiceTracker()
    assert kinds(tracker, OPEN_UNPAID) == []
    written_off = read(InvoiceStatus.UNCOLLECTIBLE, "0", 5)
    assert kinds(tracker, written_off) == [ChangeKind.WRITTEN_OFF]
    assert kinds(tracker, written_off) == []
