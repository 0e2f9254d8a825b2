"""The SQL stores behave as the in-memory references do, on SQLite and on PostgreSQL.

Each scenario runs on the backend under test and on a fresh in-memory reference; the traces
(what every call returned or raised, entry ids replaced by their order of adding) must match.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from stores_helpers import START, Backend, delivery

from ams_billing.core.models import InvoiceStatus
from ams_billing.core.tracking import InvoiceSnapshot, StaleRead
from ams_billing.providers.xero.ledger import IdempotencyRecord, RecordState


def idempotency_scenario(backend: Backend) -> list[Any]:
    store = backend.idempotency
    pending = IdempotencyRecord("create_invoice", "f" * 64, RecordState.PENDING)
    done = IdempotencyRecord("create_invoice", "f" * 64, RecordState.DONE, "inv-1", "a@b.org")
    long_key = "ams-billing:create_invoice:" + "é" * 300
    trace: list[Any] = [store.get("k1")]
    store.put("k1", pending)
    trace.append(store.get("k1"))
    store.put("k1", done)  # replaces
    store.put(long_key, pending)
    trace += [store.get("k1"), store.get(long_key), store.get("k2")]
    store.delete("k1")
    store.delete("never-seen")  # no error
    trace += [store.get("k1"), store.get(long_key)]
    store.put("k1", pending)  # a refused key may be used again
    trace.append(store.get("k1"))
    return trace


def invoice_state_scenario(backend: Backend) -> list[Any]:
    store = backend.invoice_state
    chatham = timezone(timedelta(hours=12, minutes=45))
    first = InvoiceSnapshot(InvoiceStatus.OPEN, Decimal("0.00"), START)
    older = InvoiceSnapshot(InvoiceStatus.DRAFT, Decimal(0), START - timedelta(microseconds=1))
    paid_part = InvoiceSnapshot(
        InvoiceStatus.OPEN, Decimal("60.10"), (START + timedelta(hours=1)).astimezone(chatham)
    )
    same_instant_more = InvoiceSnapshot(
        InvoiceStatus.PAID, Decimal("120.00"), START + timedelta(hours=1)
    )
    trace: list[Any] = [store.get("inv-1")]

    def put(snapshot: InvoiceSnapshot) -> Any:
        try:
            return ("replaced", store.put_if_newer("inv-1", snapshot))
        except StaleRead:
            return ("stale",)

    trace += [put(first), put(first), put(older), put(paid_part), put(paid_part)]
    trace += [put(same_instant_more), put(paid_part), store.get("inv-1"), store.get("inv-2")]
    return trace


def inbox_scenario(backend: Backend) -> list[Any]:
    inbox, clock = backend.inbox, backend.clock
    ids: list[str] = []
    trace: list[Any] = []

    def add(number: int) -> None:
        ids.append(inbox.add(delivery(number)))
        clock.advance(0.001)

    def claim(limit: int, lease: float) -> None:
        trace.append(
            [
                (ids.index(e.entry_id), e.delivery, e.received_at, e.attempts)
                for e in inbox.claim(limit, lease)
            ]
        )

    for number in range(5):
        add(number)
    trace.append(inbox.pending())
    claim(2, 30)  # 0, 1
    claim(10, 30)  # 2, 3, 4
    claim(1, 30)  # nothing free
    claim(0, 30)
    inbox.release([ids[0]])
    claim(5, 30)  # 0 again, one attempt more
    inbox.complete([ids[1], "no-such-entry"])
    trace.append(inbox.pending())
    clock.advance(31)  # every lease runs out
    add(5)
    claim(3, 30)  # 0, 2, 3: expired leases count an attempt
    inbox.complete([ids[0], ids[0]])
    inbox.release([ids[1]])  # done: stays done, attempts unchanged
    claim(10, 0)  # 4 (expired), 5 (new); a 0-second lease ends at once
    claim(10, 30)  # 4 and 5 again
    inbox.complete(ids)
    trace.append(inbox.pending())
    claim(10, 30)
    inbox.release(["no-such-entry"])
    return trace


SCENARIOS: dict[str, Callable[[Backend], list[Any]]] = {
    "idempotency": idempotency_scenario,
    "invoice_state": invoice_state_scenario,
    "inbox": inbox_scenario,
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_behaves_as_the_in_memory_reference(
    backend: Backend, reference: Callable[[], Backend], scenario: str
) -> None:
    expected = SCENARIOS[scenario](reference())
    assert SCENARIOS[scenario](backend) == expected


def test_the_inbox_reference_trace_is_what_the_protocol_says(
    reference: Callable[[], Backend],
) -> None:
    """Pin the reference itself, so the comparison above cannot agree on a wrong behaviour."""
    trace = inbox_scenario(reference())
    counts = [step for step in trace if isinstance(step, int)]
    claims = [
        [(i, attempts) for i, _, _, attempts in step] for step in trace if isinstance(step, list)
    ]
    assert counts == [5, 4, 0]
    assert claims == [
        [(0, 0), (1, 0)],
        [(2, 0), (3, 0), (4, 0)],
        [],
        [],
        [(0, 1)],  # released: one attempt
        [(0, 2), (2, 1), (3, 1)],  # leases ran out: one attempt more each
        [(4, 1), (5, 0)],
        [(4, 2), (5, 1)],  # a 0-second lease is over at once
        [],
    ]


def test_amounts_and_instants_come_back_exactly(backend: Backend) -> None:
    chatham = timezone(timedelta(hours=12, minutes=45))
    instant = START.astimezone(chatham) + timedelta(microseconds=123_457)
    snapshot = InvoiceSnapshot(InvoiceStatus.OPEN, Decimal("1234567890.1200"), instant)
    backend.invoice_state.put_if_newer("inv-exact", snapshot)
    stored = backend.invoice_state.get("inv-exact")
    assert stored == snapshot
    assert stored is not None
    assert str(stored.amount_paid) == "1234567890.1200"
    assert stored.updated_at.utcoffset() is not None
    backend.inbox.add(delivery(7))
    (entry,) = backend.inbox.claim(1, 30)
    assert entry.delivery == delivery(7)
    assert entry.received_at == backend.clock.now
    assert entry.received_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("status", list(InvoiceStatus), ids=lambda status: status.name)
def test_every_status_is_stored_and_read_back(backend: Backend, status: InvoiceStatus) -> None:
    # AWAITING_APPROVAL is 17 characters: a column sized for Xero's names refuses it.
    snapshot = InvoiceSnapshot(status, Decimal("1.00"), START)
    backend.invoice_state.put_if_newer("inv-1", snapshot)
    assert backend.invoice_state.get("inv-1") == snapshot
