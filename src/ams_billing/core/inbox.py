"""The webhook inbox: verified deliveries kept until their listeners have been told.

A webhook endpoint writes each verified delivery to the inbox *before* it answers 200 (Xero
never sends an acknowledged delivery again), and a worker marks it done only *after* the
invoices it names were read and the listeners told. Between the two, a crash loses nothing:
the entry waits in the inbox for the next worker.

Workers take entries by **lease**: :meth:`WebhookInbox.claim` hands an entry to one worker for
``lease_seconds``; concurrent claimers never receive the same live entry, and an entry whose
worker died becomes claimable again when its lease runs out. Listeners therefore hear each
change *at least* once (a worker can die after telling them and before completing the entry);
:class:`~ams_billing.core.tracking.InvoiceTracker` and an idempotent listener make that once in
effect.

:class:`InMemoryWebhookInbox` is for tests and single-process demos, chosen explicitly; the
durable ones live in :mod:`ams_billing.stores` (SQL) and :mod:`ams_billing.contrib.django`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

import attrs

from ams_billing.core.models import WebhookDelivery

__all__ = ["InMemoryWebhookInbox", "InboxEntry", "WebhookInbox"]


@attrs.frozen
class InboxEntry:
    """One delivery in the inbox, as a worker claimed it."""

    entry_id: str
    delivery: WebhookDelivery
    received_at: datetime
    attempts: int = 0
    """How many claims before this one ended without completing it."""


class WebhookInbox(Protocol):
    """Where verified deliveries wait for processing; implementations are safe to share.

    Durable implementations commit in :meth:`add` before returning, and keep their promises
    across processes: two workers never hold a lease on one entry at the same time.
    """

    def add(self, delivery: WebhookDelivery) -> str:
        """Keep ``delivery`` (durably, before returning); returns its entry id."""

    def claim(self, limit: int, lease_seconds: float) -> list[InboxEntry]:
        """Lease up to ``limit`` entries that are neither done nor leased, oldest first."""

    def complete(self, entry_ids: Sequence[str]) -> None:
        """Mark entries done: their listeners were told. Unknown ids are ignored."""

    def release(self, entry_ids: Sequence[str]) -> None:
        """Give leased entries back at once, for a later attempt (their ``attempts`` rise)."""

    def pending(self) -> int:
        """How many entries are not done (leased or not)."""


@attrs.define
class _Slot:
    entry: InboxEntry
    leased_until: datetime | None = None
    done: bool = False


class InMemoryWebhookInbox:
    """A :class:`WebhookInbox` in this process's memory: lost with the process. Tests only."""

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()
        self._now = now or (lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        return f"<InMemoryWebhookInbox {self.pending()} pending>"

    def add(self, delivery: WebhookDelivery) -> str:
        """Keep ``delivery``; returns its entry id."""
        entry = InboxEntry(uuid.uuid4().hex, delivery, self._now())
        with self._lock:
            self._slots[entry.entry_id] = _Slot(entry)
        return entry.entry_id

    def claim(self, limit: int, lease_seconds: float) -> list[InboxEntry]:
        """Lease up to ``limit`` free entries, oldest first."""
        now = self._now()
        taken: list[InboxEntry] = []
        with self._lock:
            for slot in self._slots.values():
                if len(taken) >= limit:
                    break
                if slot.done or (slot.leased_until is not None and slot.leased_until > now):
                    continue
                if slot.leased_until is not None:  # an expired lease: its worker gave up or died
                    slot.entry = attrs.evolve(slot.entry, attempts=slot.entry.attempts + 1)
                slot.leased_until = now + timedelta(seconds=lease_seconds)
                taken.append(slot.entry)
        return taken

    def complete(self, entry_ids: Sequence[str]) -> None:
        """Mark entries done."""
        with self._lock:
            for entry_id in entry_ids:
                slot = self._slots.get(entry_id)
                if slot is not None:
                    slot.done = True
                    slot.leased_until = None

    def release(self, entry_ids: Sequence[str]) -> None:
        """Give entries back at once, counting the attempt."""
        with self._lock:
            for entry_id in entry_ids:
                slot = self._slots.get(entry_id)
                if slot is not None and not slot.done:
                    slot.entry = attrs.evolve(slot.entry, attempts=slot.entry.attempts + 1)
                    slot.leased_until = None

    def pending(self) -> int:
        """How many entries are not done."""
        with self._lock:
            return sum(1 for slot in self._slots.values() if not slot.done)
