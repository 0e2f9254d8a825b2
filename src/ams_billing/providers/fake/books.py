"""The fake accounting system's books: what outlives any one provider instance.

:class:`~ams_billing.providers.fake.FakeProvider` plays two parts: the accounting system
(its books, here) and the client an AMS process runs (the provider instance, with its
idempotency ledger). Instances built over the same :class:`FakeBooks` are one AMS before and
after a restart: the second sees every contact, invoice, payment, email and undelivered webhook
event the first made. What the books do not keep for long is the memory of idempotency keys,
as Xero keeps them for minutes only: :meth:`FakeBooks.expire_keys` forgets them all, as the
passing of that window does.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs

from ams_billing.core.models import ContactRecord, Invoice, InvoiceEmailResult, WebhookEvent

__all__ = ["FakeBooks", "FakePayment"]


@attrs.frozen
class FakePayment:
    """A payment recorded against a fake invoice."""

    payment_id: str
    invoice_id: str
    amount: Decimal
    paid_on: datetime
    deleted: bool = False


class _MonotonicClock:
    """Wall-clock UTC that never repeats or goes back, so reads of a change are ordered."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._last = datetime.min.replace(tzinfo=UTC)

    def now(self) -> datetime:
        """The time now, without stamping anything."""
        return self._now()

    def tick(self) -> datetime:
        stamp = max(self._now(), self._last + timedelta(microseconds=1))
        self._last = stamp
        return stamp


class FakeBooks:
    """The state of the fake accounting system; ``lock`` guards all of it.

    :param now: the clock (timezone-aware UTC), for tests that control time.
    """

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.books_id = uuid.uuid4().hex
        """Tells these books from others, in a ledger that outlived them (as a tenant id would)."""
        self.clock = _MonotonicClock(now or (lambda: datetime.now(UTC)))
        self.ids = itertools.count(1)
        self.contacts: dict[str, ContactRecord] = {}
        self.invoices: dict[str, Invoice] = {}
        self.payments: dict[str, FakePayment] = {}
        self.keys: dict[str, tuple[str, object, object]] = {}
        """The idempotency keys still remembered: key → (operation, request, first result)."""
        self.made_under: dict[str, str] = {}
        """Invoice id → the client's key it was made under, kept with the invoice (as metadata
        is) and never forgotten: what a client looks up after a create's answer was lost."""
        self.emails: list[InvoiceEmailResult] = []
        self.pending_events: list[WebhookEvent] = []
        self.sequence = 0
        """The sequence number of the last webhook event delivered."""

    def __repr__(self) -> str:
        return f"<FakeBooks contacts={len(self.contacts)} invoices={len(self.invoices)}>"

    def expire_keys(self) -> None:
        """Forget every idempotency key, as the accounting system does when its window passes."""
        with self.lock:
            self.keys.clear()
