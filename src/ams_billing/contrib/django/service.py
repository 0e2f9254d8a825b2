"""The process-wide billing services, configured from Django settings or the environment.

The provider is the first of: the Django setting ``AMS_BILLING_SERVICE_CLASS``, the
environment variable of that name, and the AMS's own setting ``BILLING_SERVICE_CLASS``.
Inside the AMS the last two name the AMS's service class
(``ams.billing.providers.xero.XeroBillingService``), which after its migration is
:class:`ams_billing.contrib.ams.XeroBillingService` and says which provider it runs on.
``AMS_BILLING_EMAIL_WHITELIST_REGEX`` falls back to the AMS's ``BILLING_EMAIL_WHITELIST_REGEX``
the same way.

When the app ``ams_billing.contrib.django`` is installed, the service keeps its state in the
project's database: invoice snapshots (:class:`~.stores.DjangoInvoiceStateStore`), the
provider's idempotency records when it takes an ``idempotency_store``
(:class:`~.stores.DjangoIdempotencyStore`) and webhook deliveries
(:class:`~.stores.DjangoWebhookInbox`). Without the app, the service keeps its state where
:func:`~ams_billing.assembly.loading.load_service` does outside Django: in the SQL stores of
:mod:`ams_billing.stores` (``AMS_BILLING_DATABASE_URL``, a setting or a variable, else an SQLite
file), or in memory when that says ``memory:``.

How a kept delivery is processed is ``AMS_BILLING_WEBHOOK_PROCESSING``
(:func:`webhook_processing`): by a thread of the web process, by a task of Django's Tasks
framework, or only by ``manage.py ams_billing_drain``.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Literal

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, router, transaction

from ams_billing.assembly.loading import (
    SERVICE_CLASS_VARIABLE,
    load_service,
    resolve_provider_class,
)
from ams_billing.assembly.state import takes_idempotency_store
from ams_billing.contrib.django.signals import SignalListener
from ams_billing.core.models import WebhookDelivery
from ams_billing.core.service import BillingService
from ams_billing.core.webhooks import BackgroundProcessor

# The models, the stores and the tasks are imported where used: this module is imported before
# Django's app registry is ready (by settings modules, by ams_billing.contrib.ams).

__all__ = [
    "AMS_SETTING_ALIASES",
    "PROCESSING_SETTING",
    "DjangoBackgroundProcessor",
    "configured_provider",
    "get_billing_service",
    "get_processor",
    "keep_delivery",
    "reset_billing_service",
    "settings_environ",
    "stores_enabled",
    "webhook_processing",
]

APP = "ams_billing.contrib.django"
PROCESSING_SETTING = "AMS_BILLING_WEBHOOK_PROCESSING"
"""The Django setting choosing how kept deliveries are processed: see :func:`webhook_processing`."""

Processing = Literal["thread", "task", "none"]
logger = logging.getLogger("ams_billing.webhooks")

_PREFIXES = ("AMS_BILLING_", "XERO_")
AMS_SETTING_ALIASES = {
    SERVICE_CLASS_VARIABLE: "BILLING_SERVICE_CLASS",
    "AMS_BILLING_EMAIL_WHITELIST_REGEX": "BILLING_EMAIL_WHITELIST_REGEX",
}
"""Our variable → the AMS's Django setting read when ours is set nowhere."""

_lock = threading.Lock()
_services: dict[type, BillingService] = {}
_processor: BackgroundProcessor | None = None


def settings_environ() -> dict[str, str]:
    """The environment with every ``AMS_BILLING_*`` / ``XERO_*`` Django setting laid over it.

    A setting of ``None`` is left out, so it falls back to the environment; a variable set
    nowhere falls back to the AMS's setting named in :data:`AMS_SETTING_ALIASES`.
    """
    environ = dict(os.environ)
    for name in dir(settings):
        if name.startswith(_PREFIXES):
            value = getattr(settings, name)
            if value is not None:
                environ[name] = str(value)
    for ours, theirs in AMS_SETTING_ALIASES.items():
        value = getattr(settings, theirs, None)
        if not environ.get(ours) and value:
            environ[ours] = str(value)
    return environ


def configured_provider() -> str:
    """The provider value the settings configure (empty when none does)."""
    return settings_environ().get(SERVICE_CLASS_VARIABLE, "").strip()


def stores_enabled() -> bool:
    """Whether state lives in the database: the app ``ams_billing.contrib.django`` is installed."""
    return apps.is_installed(APP)


def get_billing_service(provider: str | None = None) -> BillingService:
    """The service of ``provider`` (default: the configured one), built once per process.

    Values naming the same provider class share one service, so its idempotency ledger,
    invoice state and HTTP connections serve the whole process. The Django signal
    :data:`~ams_billing.contrib.django.signals.invoice_changed` is its listener. With the app
    installed, its invoice state, its webhook inbox and (for a provider that takes an
    ``idempotency_store``, as Xero's does) its idempotency records are kept in the project's
    database (:mod:`.stores`); without it, in the SQL stores (see the module docstring).
    """
    value = (provider or configured_provider()).strip()
    key = resolve_provider_class(value) if value else type(None)
    with _lock:
        service = _services.get(key)
        if service is None:
            options: dict[str, Any] = {}
            if stores_enabled():
                from ams_billing.contrib.django.stores import (  # noqa: PLC0415 - models need the app registry
                    DjangoIdempotencyStore,
                    DjangoInvoiceStateStore,
                    DjangoWebhookInbox,
                )

                options["state_store"] = DjangoInvoiceStateStore()
                options["inbox"] = DjangoWebhookInbox()
                if value and takes_idempotency_store(key):
                    options["idempotency_store"] = DjangoIdempotencyStore()
            service = load_service(
                value or None, environ=settings_environ(), listeners=[SignalListener()], **options
            )
            _services[key] = service
        return service


class DjangoBackgroundProcessor(BackgroundProcessor):
    """A :class:`~ams_billing.contrib.webhooks.processor.BackgroundProcessor` for Django.

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


def reset_billing_service() -> None:
    """Forget the services (after settings change, e.g. in tests); the next call rebuilds."""
    global _processor  # noqa: PLW0603
    with _lock:
        if _processor is not None:
            _processor.close()
        for service in _services.values():
            service.close()  # the provider's HTTP connections, the SQL stores' pool if any
        _services.clear()
        _processor = None
