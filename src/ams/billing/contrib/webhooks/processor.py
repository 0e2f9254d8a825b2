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

from ams.billing.core.errors import BillingError
from ams.billing.core.models import WebhookDelivery
from ams.billing.core.service import BillingService

__all__ = ["BackgroundProcessor"]

logger = logging.getLogger("ams.billing.webhooks")


class BackgroundProcessor:
    """Runs ``service.process_webhook`` for submitted deliveries on one daemon thread."""

    def __init__(self, service: BillingService, *, max_pending: int = 1000) -> None:
        self.service = service
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
            delivery = self._queue.get()
            try:
                if delivery is None:
                    return
                self.service.process_webhook(delivery)
                self.processed += 1
            except BillingError as error:
                # Xero redelivers nothing we already acknowledged; the sync safety net will.
                self.failed += 1
                logger.warning("processing a webhook delivery failed: %s", type(error).__name__)
            except Exception:
                # A listener's own failure (its database, its bug) must not stop the worker;
                # the invoice's state was not stored, so the next delivery or sync retries it.
                self.failed += 1
                logger.exception("a listener failed while processing a webhook delivery")
            finally:
                self._queue.task_done()
