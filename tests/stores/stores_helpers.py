"""Helpers for the store tests, and the functions their worker processes run.

Worker processes are started with multiprocessing's 'spawn' context, so everything they run is
a top-level function here (importable without pytest), and each opens its own engine.
"""

from __future__ import annotations

import multiprocessing
import os
import random
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs

from ams_billing.core.inbox import WebhookInbox
from ams_billing.core.models import (
    EventCategory,
    EventType,
    InvoiceStatus,
    WebhookDelivery,
    WebhookEvent,
)
from ams_billing.core.tracking import InvoiceSnapshot, InvoiceStateStore, StaleRead
from ams_billing.providers.xero.ledger import IdempotencyStore
from ams_billing.stores import open_stores, schema_status

START = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@attrs.frozen
class Backend:
    name: str
    idempotency: IdempotencyStore
    invoice_state: InvoiceStateStore
    inbox: WebhookInbox
    clock: FakeClock


def delivery(number: int) -> WebhookDelivery:
    """A delivery about invoice ``inv-<number>``, with an instant in a non-UTC offset."""
    chatham = START.astimezone(timezone(timedelta(hours=12, minutes=45)))
    return WebhookDelivery(
        events=(
            WebhookEvent(
                EventCategory.INVOICE,
                EventType.UPDATE,
                f"inv-{number}",
                chatham + timedelta(microseconds=number),
                tenant_id="tenant-ü",
                resource_url=f"https://api.xero.com/api.xro/2.0/Invoices/inv-{number}",
            ),
        ),
        first_sequence=number,
        last_sequence=number,
    )


# The racing snapshots: index 2 is the newest (it wins a tie on updated_at with index 3 by
# the tracker's rule: same instant, more paid or further status).
SNAPSHOTS = (
    InvoiceSnapshot(InvoiceStatus.OPEN, Decimal("0.00"), START),
    InvoiceSnapshot(InvoiceStatus.OPEN, Decimal("50.10"), START + timedelta(hours=1)),
    InvoiceSnapshot(InvoiceStatus.PAID, Decimal("100.00"), START + timedelta(hours=2)),
    InvoiceSnapshot(InvoiceStatus.OPEN, Decimal("100.00"), START + timedelta(hours=2)),
)
NEWEST = 2


def newness(snapshot: InvoiceSnapshot) -> tuple[Any, ...]:
    """A sort key agreeing with the tracker's rule for :data:`SNAPSHOTS`."""
    rank = {InvoiceStatus.OPEN: 2, InvoiceStatus.PAID: 3}[snapshot.status]
    return (snapshot.updated_at, snapshot.amount_paid, rank)


# -- worker processes ------------------------------------------------------------------------
#
# The racing functions run in a pool of 4 spawned processes kept for the test session (spawning
# and importing is most of their cost). Each waits on the pool's barrier before it races: as no
# call leaves the barrier until all 4 have reached it, the 4 calls of a race run in 4 distinct
# processes at once.

PARTIES = 4
_barrier: Any = None


def init_worker(barrier: Any) -> None:
    """The pool's initializer: keep the shared barrier (only inherited, never pickled)."""
    global _barrier  # noqa: PLW0603 - one per worker process, set once
    _barrier = barrier


def start_together() -> None:
    """Wait until every process of the race is here (bounded)."""
    _barrier.wait(timeout=60)


def claim_until_empty(url: str, limit: int) -> list[str]:
    """Claim and complete entries until none is left to claim; return the ids claimed."""
    claimed: list[str] = []
    with open_stores(url, upgrade=False) as stores:
        start_together()
        while entries := stores.inbox.claim(limit, lease_seconds=600):
            claimed.extend(entry.entry_id for entry in entries)
            stores.inbox.complete([entry.entry_id for entry in entries])
    return claimed


def race_put_if_newer(
    url: str, index: int, invoice_ids: list[str]
) -> tuple[int, list[tuple[str, str, int | None]]]:
    """Put ``SNAPSHOTS[index]`` for each invoice; return what each put answered."""
    answers: list[tuple[str, str, int | None]] = []
    order = list(invoice_ids)
    random.Random(index).shuffle(order)  # every process meets the others in another order
    with open_stores(url, upgrade=False) as stores:
        start_together()
        for invoice_id in order:
            try:
                previous = stores.invoice_state.put_if_newer(invoice_id, SNAPSHOTS[index])
            except StaleRead:
                answers.append((invoice_id, "stale", None))
            else:
                replaced = None if previous is None else SNAPSHOTS.index(previous)
                answers.append((invoice_id, "stored", replaced))
    return index, answers


def open_at_once(url: str) -> str | None:
    """Open (and so upgrade) the stores at the same moment as the other processes."""
    start_together()
    with open_stores(url) as stores:
        stores.inbox.add(delivery(0))
        return schema_status(stores.engine).current


def load_at_once(url: str) -> str:
    """``load_service()`` at the same moment as the other processes, as web workers start."""
    from ams_billing import load_service

    start_together()
    with load_service("fake", environ={"AMS_BILLING_DATABASE_URL": url}) as billing:
        return type(billing.state_store).__name__


@attrs.frozen
class RacePool:
    """The session's worker processes and the barrier they start each race on."""

    pool: ProcessPoolExecutor
    barrier: Any

    def run(self, function: Callable[..., Any], calls: list[tuple[Any, ...]]) -> list[Any]:
        """Run ``function`` once per argument tuple (exactly :data:`PARTIES`), all at once."""
        assert len(calls) == PARTIES
        self.barrier.reset()  # a race that failed half-way may have broken it
        futures = [self.pool.submit(function, *arguments) for arguments in calls]
        return [future.result(timeout=120) for future in futures]


def claim_and_die(url: str, results: Any, lease_seconds: float) -> None:
    """Claim every free entry, report them, and die without completing or releasing any."""
    with open_stores(url, upgrade=False) as stores:
        entries = stores.inbox.claim(100, lease_seconds)
        results.put([(entry.entry_id, entry.attempts) for entry in entries])
        results.close()
        results.join_thread()  # the report is sent; nothing else is done
    os._exit(0)  # no cleanup: as a worker killed mid-batch


def run_and_die(url: str, lease_seconds: float) -> Any:
    """Run :func:`claim_and_die` in a spawned process; return its report."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=claim_and_die, args=(url, results, lease_seconds))
    process.start()
    try:
        report = results.get(timeout=120)
        process.join(timeout=60)
    finally:
        if process.is_alive():
            process.kill()
            process.join(timeout=10)
    assert process.exitcode == 0
    return report
