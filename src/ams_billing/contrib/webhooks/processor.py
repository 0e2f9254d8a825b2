"""Processing verified webhook deliveries after the response, off the request path.

Xero wants its answer within 5 seconds; fetching the changed invoices can take longer under
rate limits. The endpoint therefore only verifies and acknowledges, and hands the delivery to
a :class:`BackgroundProcessor`: one worker thread, a bounded queue. A delivery that does not fit
is dropped with a warning and caught up by the next ``sync_changed_since`` run, the safety net
that also covers deliveries Xero never sends.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from ams_billing.core.errors import BillingError
from ams_billing.core.models import WebhookDelivery
from ams_billing.core.service import BillingService

__all__ = ["MAX_COALESCED", "BackgroundProcessor"]

MAX_COALESCED = 200
"""The most queued deliveries whose invoices are read together in one sync."""

logger = logging.getLogger("ams_billing.webhooks")


class BackgroundProcessor:
    """Processes submitted deliveries on one daemon thread, merging those that queued up.

    The invoices named by every delivery waiting in the queue, or arriving within ``linger``
    seconds of the first (up to :data:`MAX_COALESCED`), are read in one
    ``service.sync_invoices`` call, so a burst of payments costs a read per 50 invoices rather
    than one per delivery, for a quarter of a second's latency by default.
    """

    def __init__(
        self, service: BillingService, *, max_pending: int = 1000, linger: float = 0.25
    ) -> None:
        self.service = service
        self.linger = linger
        self._queue: queue.Queue[WebhookDelivery | None] = queue.Queue(maxsize=max_pending)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.processed = 0
        self.failed = 0
        self.dropped = 0

    def submit(self, delivery: WebhookDelivery) -> bool:
        """Queue a delivery; returns false (and logs) when the queue is full."""
        self._ensure_started()
        try:
            self._queue.put_nowait(delivery)
        except queue.Full:
            self.dropped += 1
            logger.warning(
                "webhook queue full: a delivery of %d event(s) is left to the next sync",
                len(delivery.events),
            )
            return False
        return True

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued delivery is processed; false if ``timeout`` ran out first."""
        with self._queue.all_tasks_done:
            return self._queue.all_tasks_done.wait_for(
                lambda: self._queue.unfinished_tasks == 0, timeout=timeout
            )

    def close(self, timeout: float = 5.0) -> None:
        """Process what is queued, then stop the worker."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="ams-billing-webhooks", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            deliveries = [delivery for delivery in batch if delivery is not None]
            try:
                if deliveries:
                    # Many invoices changing at once arrive as many small deliveries; one sync
                    # of all their ids reads them 50 to a request instead of one request each.
                    ids = dict.fromkeys(i for d in deliveries for i in d.invoice_ids)
                    self.service.sync_invoices(list(ids))
                    self.processed += len(deliveries)
            except BillingError as error:
                # Xero redelivers nothing we already acknowledged; the sync safety net will.
                self.failed += len(deliveries)
                logger.warning("processing webhook deliveries failed: %s", type(error).__name__)
            except Exception:
                # A listener's own failure (its database, its bug) must not stop the worker;
                # the invoice's state was not stored, so the next delivery or sync retries it.
                self.failed += len(deliveries)
                logger.exception("a listener failed while processing webhook deliveries")
            finally:
                for _ in batch:
                    self._queue.task_done()
            if len(deliveries) < len(batch):
                return

    def _take_batch(self) -> list[WebhookDelivery | None]:
        batch = [self._queue.get()]
        # Xero sends a burst as a series of small deliveries, one after another: waiting a
        # moment for the next ones lets one read of 50 invoices serve several deliveries.
        deadline = time.monotonic() + self.linger
        while batch[-1] is not None and len(batch) < MAX_COALESCED:
            try:
                batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch
