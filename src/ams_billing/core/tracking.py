"""Turning invoice reads into change notifications, once each and never backwards.

Webhooks arrive late, twice or out of order, and syncs re-read invoices that did not change.
:class:`InvoiceTracker` remembers the last state it saw of each invoice (in an
:class:`InvoiceStateStore`), ignores reads older than that state or behind it in the status order
(:func:`~ams_billing.core.status_order.is_forward`), and reports a change only when the status
or the amount paid really moved. An AMS that keeps its own invoice table
implements the two-method store protocol over it; the in-memory store suits one process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import attrs

from ams_billing.core.models import ChangeKind, Invoice, InvoiceChange, InvoiceStatus
from ams_billing.core.status_order import is_forward, status_rank

__all__ = [
    "InMemoryInvoiceStateStore",
    "InvoiceSnapshot",
    "InvoiceStateStore",
    "InvoiceTracker",
    "StaleRead",
    "detect_change",
]


@attrs.frozen
class InvoiceSnapshot:
    """What the tracker remembers of an invoice.

    ``delivered`` says the state came in a webhook delivery (a provider's snapshot event)
    rather than from a read of the invoice: such a state may be history, so it never moves an
    invoice backwards (:func:`~ams_billing.core.status_order.is_forward`). It only steers the
    comparison and is not stored.
    """

    status: InvoiceStatus
    amount_paid: Decimal
    updated_at: datetime
    delivered: bool = attrs.field(default=False, eq=False, kw_only=True)

    @classmethod
    def of(cls, invoice: Invoice, *, delivered: bool = False) -> InvoiceSnapshot:
        """The snapshot of an invoice read (or, with ``delivered``, of a delivered state)."""
        return cls(invoice.status, invoice.amount_paid, invoice.updated_at, delivered=delivered)


class InvoiceStateStore(Protocol):
    """Where the tracker keeps the last state seen of each invoice."""

    def get(self, invoice_id: str) -> InvoiceSnapshot | None:
        """Return the stored snapshot, or ``None`` for an invoice never seen."""

    def put_if_newer(self, invoice_id: str, snapshot: InvoiceSnapshot) -> InvoiceSnapshot | None:
        """Atomically store ``snapshot`` unless the stored one is newer or equal.

        Returns the snapshot that was replaced (``None`` if there was none), or raises
        :class:`StaleRead` when the stored snapshot was kept.
        """


class StaleRead(Exception):  # noqa: N818 - a signal between store and tracker, not an error
    """The read is not newer than what the store holds; nothing to report."""


class InMemoryInvoiceStateStore:
    """A thread-safe :class:`InvoiceStateStore` in a dict, for one process."""

    def __init__(self) -> None:
        self._snapshots: dict[str, InvoiceSnapshot] = {}
        self._lock = threading.Lock()

    def get(self, invoice_id: str) -> InvoiceSnapshot | None:
        """Return the stored snapshot, or ``None``."""
        with self._lock:
            return self._snapshots.get(invoice_id)

    def put_if_newer(self, invoice_id: str, snapshot: InvoiceSnapshot) -> InvoiceSnapshot | None:
        """Store ``snapshot`` unless the stored one is as new; see the protocol."""
        with self._lock:
            previous = self._snapshots.get(invoice_id)
            if previous is not None and not _is_newer(snapshot, previous):
                raise StaleRead
            self._snapshots[invoice_id] = snapshot
            return previous


def _is_newer(candidate: InvoiceSnapshot, stored: InvoiceSnapshot) -> bool:
    """Whether ``candidate`` replaces ``stored``: newer, and a delivered state never backwards.

    The one comparison every :class:`InvoiceStateStore` applies (the SQL and Django stores
    call it inside their transaction). A state read from the provider is its present truth,
    so a newer read that moved back (a payment deleted in the provider) is recorded and
    reported; a delivered state is the invoice as it was when the event happened, and one that
    arrives late must not undo what a later event or read already showed.
    """
    if candidate.delivered and not is_forward(stored.status, candidate.status):
        return False  # a late event about an earlier state: see core/status_order.py
    if candidate.updated_at != stored.updated_at:
        return candidate.updated_at > stored.updated_at
    # Same timestamp, different content: providers with coarse clocks can stamp two writes
    # alike; money only moves forward within one timestamp, so the further state wins.
    return (candidate.amount_paid, status_rank(candidate.status)) > (
        stored.amount_paid,
        status_rank(stored.status),
    )


def detect_change(previous: InvoiceSnapshot | None, invoice: Invoice) -> InvoiceChange | None:
    """Classify how ``invoice`` differs from ``previous``; ``None`` when nothing that matters."""
    if previous is not None and (
        previous.status is invoice.status and previous.amount_paid == invoice.amount_paid
    ):
        return None
    kind: ChangeKind | None
    if invoice.status is InvoiceStatus.PAID:
        kind = ChangeKind.PAID
    elif invoice.status is InvoiceStatus.VOID:
        kind = ChangeKind.VOIDED
    elif invoice.status is InvoiceStatus.UNCOLLECTIBLE:
        kind = ChangeKind.WRITTEN_OFF
    elif invoice.status is InvoiceStatus.DELETED:
        kind = ChangeKind.DELETED
    elif invoice.is_partially_paid:
        kind = ChangeKind.PARTIALLY_PAID
    else:
        kind = None if previous is None else ChangeKind.UPDATED
    if kind is None:
        return None
    return InvoiceChange(
        invoice=invoice,
        previous_status=previous.status if previous else None,
        kind=kind,
        previous_amount_paid=previous.amount_paid if previous else None,
    )


class InvoiceTracker:
    """Compares invoice reads with the last state seen and reports each real change.

    Listeners are told *before* the new state is stored: if one fails (its database is down),
    the state stays as it was and the next webhook or sync tells it again. Delivery is
    therefore at least once, never lost; listeners must be idempotent, as marking a
    membership paid naturally is. Reads are observed one batch at a time per tracker, so two
    threads never report the same change or report an older one after a newer.
    """

    def __init__(self, store: InvoiceStateStore | None = None) -> None:
        self.store: InvoiceStateStore = store or InMemoryInvoiceStateStore()
        self._lock = threading.RLock()

    def observe(
        self,
        invoices: Iterable[Invoice],
        notify: Callable[[InvoiceChange], object] | None = None,
        *,
        delivered: Iterable[Invoice] = (),
    ) -> list[InvoiceChange]:
        """Record the reads, oldest first, calling ``notify`` for each change before storing it.

        ``delivered`` are states that came in webhook deliveries (snapshot events), not from
        reads: they never move an invoice backwards. Returns the changes. If ``notify`` raises,
        the invoice it was told about is not stored and the exception propagates; invoices
        before it are stored.
        """
        changes = []
        seen = [(invoice, False) for invoice in invoices]
        seen += [(invoice, True) for invoice in delivered]
        with self._lock:
            for invoice, was_delivered in sorted(seen, key=lambda item: item[0].updated_at):
                snapshot = InvoiceSnapshot.of(invoice, delivered=was_delivered)
                previous = self.store.get(invoice.provider_id)
                if previous is not None and not _is_newer(snapshot, previous):
                    continue
                change = detect_change(previous, invoice)
                if change is not None and notify is not None:
                    notify(change)
                try:
                    self.store.put_if_newer(invoice.provider_id, snapshot)
                except StaleRead:
                    continue  # another process stored a newer read meanwhile
                if change is not None:
                    changes.append(change)
        return changes
