"""Keeping a verified webhook delivery and having it processed, inside Django.

How a kept delivery is processed is the setting ``AMS_BILLING_WEBHOOK_PROCESSING``
(:func:`webhook_processing`): by a thread of the web process (:func:`get_processor`), by a
task of Django's Tasks framework (:mod:`.tasks`), or only by ``manage.py ams_billing_drain``.
Each way processes with :mod:`ams_billing.core.webhooks`; the services come from the registry
in :mod:`.service`, which knows nothing of this module (it is told, through
:func:`~.service.on_reset`, to stop the worker thread when the services are reset).
"""

from __future__ import annotations

import logging
import threading
from typing import Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, router, transaction

from ams_billing.contrib.django.service import (
    APP,
    get_billing_service,
    on_reset,
    stores_enabled,
)
from ams_billing.core.models import WebhookDelivery
from ams_billing.core.webhooks import BackgroundProcessor

# The models, the stores and the tasks are imported where used: this module is imported before
# Django's app registry is ready (by the app's views, through its URLconf).

__all__ = [
    "PROCESSING_SETTING",
    "DjangoBackgroundProcessor",
    "get_processor",
    "keep_delivery",
    "webhook_processing",
]

PROCESSING_SETTING = "AMS_BILLING_WEBHOOK_PROCESSING"
"""The Django setting choosing how kept deliveries are processed: see :func:`webhook_processing`."""

Processing = Literal["thread", "task", "none"]
logger = logging.getLogger("ams_billing.webhooks")

_lock = threading.Lock()
_processor: BackgroundProcessor | None = None


class DjangoBackgroundProcessor(BackgroundProcessor):
    """A :class:`~ams_billing.core.webhooks.BackgroundProcessor` for Django.

    Its worker thread closes its database connections when it stops, and outlives a database
    error (the database restarting, a dropped connection): it logs it, drops the thread's
    connections and tries again after ``min(retry_interval, 5)`` seconds.
    """

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    super()._run()
                except DatabaseError:
                    logger.exception("the webhook inbox failed; retrying")
                    connections.close_all()  # this thread's connections: reconnect next time
                    with self._idle:
                        self._busy = False
                        self._idle.notify_all()
                    if not self._stop.wait(min(self.retry_interval, 5.0)):
                        self._wake.set()
                else:
                    return
        finally:
            connections.close_all()


def get_processor() -> BackgroundProcessor:
    """The background processor that handles deliveries after the response.

    With the app installed it is a :class:`DjangoBackgroundProcessor` on a
    :class:`~.stores.DjangoWebhookInbox`; otherwise one on the service's inbox (the SQL stores'
    by default).
    """
    global _processor  # noqa: PLW0603 - one worker per process
    service = get_billing_service()
    with _lock:
        if _processor is None or _processor.service is not service:
            if stores_enabled():
                from ams_billing.contrib.django.stores import DjangoWebhookInbox  # noqa: PLC0415 - models need the app registry

                _processor = DjangoBackgroundProcessor(service, inbox=DjangoWebhookInbox())
            else:
                _processor = BackgroundProcessor(service)
        return _processor


def webhook_processing() -> Processing:
    """How kept deliveries are processed, from the setting ``AMS_BILLING_WEBHOOK_PROCESSING``.

    - ``"thread"``: a thread of the web process (:func:`get_processor`) wakes at once;
    - ``"task"``: the view enqueues the task
      :data:`~ams_billing.contrib.django.tasks.process_webhook_inbox`, which a task worker runs
      (needs the app installed and Django's Tasks framework: ``django.tasks`` on Django 6, the
      ``django-tasks`` backport before);
    - ``"none"``: the view only keeps the delivery; ``manage.py ams_billing_drain`` (cron)
      processes it;
    - ``"auto"`` (the default): ``"task"`` when the app is installed, ``TASKS`` is set and the
      task's backend runs tasks elsewhere (neither the immediate backend, which would run it
      inside the request, nor the dummy one, which runs nothing); ``"thread"`` otherwise.
    """
    value = str(getattr(settings, PROCESSING_SETTING, None) or "auto").strip().lower()
    if value in ("thread", "task", "none"):
        if value != "thread" and not stores_enabled():
            raise ImproperlyConfigured(
                f"{PROCESSING_SETTING}={value!r} needs {APP!r} in INSTALLED_APPS"
            )
        return value  # type: ignore[return-value]
    if value != "auto":
        raise ImproperlyConfigured(
            f"{PROCESSING_SETTING} must be auto, thread, task or none, not {value!r}"
        )
    return "task" if stores_enabled() and _tasks_run_elsewhere() else "thread"


def _tasks_run_elsewhere() -> bool:
    if not settings.is_overridden("TASKS"):
        return False
    try:
        from ams_billing.contrib.django.tasks import process_webhook_inbox  # noqa: PLC0415 - models need the app registry
    except ImportError:  # no Tasks framework in this Django, and no backport
        return False
    backend = process_webhook_inbox.get_backend()
    return type(backend).__name__ not in ("ImmediateBackend", "DummyBackend")


def keep_delivery(delivery: WebhookDelivery) -> None:
    """Keep a verified delivery in the inbox, then have it processed (:func:`webhook_processing`).

    Without the app installed, the service's inbox (see :func:`get_processor`). With it, the
    delivery is committed before this returns; inside a transaction (``ATOMIC_REQUESTS``) it is
    written just after that transaction commits, which Django does before the response leaves,
    so the promise holds: no 200 for a delivery not kept. A failure to keep it raises.
    """
    if not stores_enabled():
        get_processor().submit(delivery)
        return
    from ams_billing.contrib.django.models import InboxEntryRow  # noqa: PLC0415 - models need the app registry

    using = router.db_for_write(InboxEntryRow)
    if transaction.get_connection(using).in_atomic_block:
        # A worker could not see a delivery written inside this transaction until it commits;
        # and the worker must not be woken before. The callback's failure fails the request.
        transaction.on_commit(lambda: _keep(delivery), using=using)
    else:
        _keep(delivery)


def _keep(delivery: WebhookDelivery) -> None:
    mode = webhook_processing()
    if mode == "thread":
        get_processor().submit(delivery)
        return
    from ams_billing.contrib.django.stores import DjangoWebhookInbox  # noqa: PLC0415 - models need the app registry

    DjangoWebhookInbox().add(delivery)
    if mode == "task":
        from ams_billing.contrib.django.tasks import enqueue_processing  # noqa: PLC0415 - models need the app registry

        try:
            enqueue_processing()
        except Exception:
            # The delivery is kept: the thread takes it now, and a drain would later.
            logger.exception("enqueueing process_webhook_inbox failed; processing in-process")
            get_processor().drain(timeout=0)


def _close_processor() -> None:
    """Stop the worker thread (what is left stays in the inbox) and forget it."""
    global _processor
    with _lock:
        processor, _processor = _processor, None
    if processor is not None:
        processor.close()


on_reset(_close_processor)
