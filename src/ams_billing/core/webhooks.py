"""Processing verified webhook deliveries after the response, from the inbox beside it.

This is the one home of webhook processing: :func:`drain_inbox` (a cron job, a worker, a
task) and :class:`BackgroundProcessor` (a thread of the web process) both work through
:func:`process_entries` on a :class:`~ams_billing.core.inbox.WebhookInbox`. The web adapters
(:mod:`ams_billing.contrib.webhooks`, :mod:`ams_billing.contrib.django`) only verify and keep.

Xero wants its answer within 5 seconds and never sends an acknowledged delivery again. The
endpoint therefore only verifies, writes the delivery to a
:class:`~ams_billing.core.inbox.WebhookInbox` (before it answers 200) and wakes a
:class:`BackgroundProcessor`, whose worker thread claims entries from the inbox, reads the
invoices they name and tells the listeners, then marks the entries done. Nothing is dropped: a
burst larger than the worker can take waits in the inbox, and so does everything a crash
interrupted, for this process's next worker or another's (:func:`drain_inbox`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import attrs

from ams_billing.core.errors import BillingError, ConfigurationError
from ams_billing.core.inbox import InboxEntry, InMemoryWebhookInbox, WebhookInbox
from ams_billing.core.models import WebhookDelivery
from ams_billing.core.service import BillingService

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "MAX_COALESCED",
    "BackgroundProcessor",
    "DrainResult",
    "drain_inbox",
]

MAX_COALESCED = 200
"""The most inbox entries whose invoices are read together in one sync."""

DEFAULT_LEASE_SECONDS = 300.0
"""How long a worker holds entries it claimed before another worker may take them over."""

logger = logging.getLogger("ams_billing.webhooks")


@attrs.frozen
class DrainResult:
    """What one pass over the inbox did."""

    processed: int = 0
    failed: int = 0


def process_entries(
    service: BillingService, inbox: WebhookInbox, entries: Sequence[InboxEntry]
) -> DrainResult:
    """Learn the state of the invoices the entries name, tell the listeners, complete them.

    On a failure the entries are released for a later attempt, so listeners hear each change
    at least once; a failure is logged, never raised.
    """
    ids = [entry.entry_id for entry in entries]
    try:
        # Many invoices changing at once arrive as many small deliveries; processing them
        # together reads them 50 to a request instead of one request each (and reads none
        # whose deliveries carried its state).
        service.process_webhooks([entry.delivery for entry in entries])
    except BillingError as error:
        inbox.release(ids)
        logger.warning(
            "processing webhook deliveries failed, kept for retry: %s", type(error).__name__
        )
        return DrainResult(failed=len(entries))
    except Exception:
        # A listener's own failure (its database, its bug) must not stop the worker; the
        # invoice's state was not stored, so the retry tells the listener again.
        inbox.release(ids)
        logger.exception("a listener failed while processing webhook deliveries; kept for retry")
        return DrainResult(failed=len(entries))
    inbox.complete(ids)
    return DrainResult(processed=len(entries))


def drain_inbox(
    service: BillingService,
    inbox: WebhookInbox | None = None,
    *,
    batch: int = MAX_COALESCED,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    max_batches: int = 10_000,
) -> DrainResult:
    """Process what the inbox holds until no entry is free, or one batch fails.

    For a cron job or a worker process (``ams-billing webhooks drain``). Entries other workers
    hold are left to them. Stops at the first failed batch (its entries wait for the next run)
    and after ``max_batches``, so it always ends. ``inbox`` defaults to the service's own.
    """
    if inbox is None:
        inbox = service.inbox
    if inbox is None:
        raise ConfigurationError(
            "nothing to drain: the service has no inbox (build it with load_service(), or pass one)"
        )
    processed = failed = 0
    for _ in range(max_batches):
        entries = inbox.claim(batch, lease_seconds)
        if not entries:
            break
        result = process_entries(service, inbox, entries)
        processed += result.processed
        failed += result.failed
        if result.failed:
            break
    return DrainResult(processed=processed, failed=failed)


def _memory_inbox() -> WebhookInbox:
    logger.warning(
        "webhook deliveries are kept in memory: one acknowledged and not yet processed is lost "
        "if the process dies; build the service with load_service() (a durable inbox) or pass "
        "inbox="
    )
    return InMemoryWebhookInbox()


class BackgroundProcessor:
    """Processes the inbox on one daemon thread, merging deliveries that arrive together.

    :param inbox: where deliveries wait; by default the service's own
        (:attr:`~ams_billing.core.service.BillingService.inbox`: for a service from
        ``load_service()``, the durable inbox beside its other state). Only a service built
        directly without one leaves an :class:`~ams_billing.core.inbox.InMemoryWebhookInbox`,
        which a crash empties; the log says so.
    :param linger: how long the worker waits after a wake-up for more deliveries, so that a
        burst of payments costs a read per 50 invoices rather than one per delivery.
    :param retry_interval: how often the worker looks at the inbox when nothing wakes it (a
        failed batch, entries another process left behind).
    :param max_pending: accepted for compatibility and ignored: nothing is dropped any more.
    """

    def __init__(
        self,
        service: BillingService,
        *,
        inbox: WebhookInbox | None = None,
        linger: float = 0.25,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        retry_interval: float = 30.0,
        max_pending: int | None = None,
    ) -> None:
        self.service = service
        if inbox is None:
            inbox = service.inbox if service.inbox is not None else _memory_inbox()
        self.inbox: WebhookInbox = inbox
        self.linger = linger
        self.lease_seconds = lease_seconds
        self.retry_interval = retry_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.processed = 0
        self.failed = 0

    def submit(self, delivery: WebhookDelivery) -> bool:
        """Keep the delivery in the inbox (durably, when the inbox is), then wake the worker.

        Returns true once the delivery is kept; an inbox failure raises, so the endpoint
        answers an error and Xero retries, rather than acknowledging what it did not keep.
        """
        self.inbox.add(delivery)
        self._ensure_started()
        with self._idle:
            self._busy = True
        self._wake.set()
        return True

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until the worker has nothing left to do; false if ``timeout`` ran out first."""
        self._ensure_started()
        with self._idle:
            self._busy = True  # until the worker has looked at the inbox once more
        self._wake.set()
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy, timeout=timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker after its current batch; what is left stays in the inbox."""
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        self._thread = None

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="ams-billing-webhooks", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            woken = self._wake.wait(self.retry_interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            if woken and self.linger > 0:
                # Xero sends a burst as a series of small deliveries, one after another:
                # waiting a moment lets one read of 50 invoices serve several deliveries.
                time.sleep(self.linger)
            with self._idle:
                self._busy = True
            result = drain_inbox(self.service, self.inbox, lease_seconds=self.lease_seconds)
            self.processed += result.processed
            self.failed += result.failed
            with self._idle:
                if self._wake.is_set():
                    continue  # more arrived while we worked: stay busy
                self._busy = False
                self._idle.notify_all()
