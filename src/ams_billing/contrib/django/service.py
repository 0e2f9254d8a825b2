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

This module is the registry of the process's services and nothing else. Keeping and
processing webhook deliveries (``AMS_BILLING_WEBHOOK_PROCESSING``, the worker thread, the task)
is :mod:`ams_billing.contrib.django.processing`; the names it took from here still import from
here, with a ``DeprecationWarning``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.conf import settings

from ams_billing.assembly.loading import (
    SERVICE_CLASS_VARIABLE,
    load_service,
    resolve_provider_class,
)
from ams_billing.assembly.state import takes_idempotency_store
from ams_billing.contrib.django.signals import SignalListener
from ams_billing.core.deprecation import moved
from ams_billing.core.service import BillingService

# The stores are imported where used: this module is imported before Django's app registry is
# ready (by settings modules, by ams_billing.contrib.ams).

__all__ = [
    "AMS_SETTING_ALIASES",
    "APP",
    "configured_provider",
    "get_billing_service",
    "on_reset",
    "reset_billing_service",
    "settings_environ",
    "stores_enabled",
]

APP = "ams_billing.contrib.django"
"""The Django app whose models keep the services' state in the project's database."""

_PREFIXES = ("AMS_BILLING_", "XERO_", "STRIPE_")
AMS_SETTING_ALIASES = {
    SERVICE_CLASS_VARIABLE: "BILLING_SERVICE_CLASS",
    "AMS_BILLING_EMAIL_WHITELIST_REGEX": "BILLING_EMAIL_WHITELIST_REGEX",
}
"""Our variable → the AMS's Django setting read when ours is set nowhere."""

_lock = threading.Lock()
_services: dict[type, BillingService] = {}
_on_reset: list[Callable[[], None]] = []


def settings_environ() -> dict[str, str]:
    """The environment with the ``AMS_BILLING_*``, ``XERO_*`` and ``STRIPE_*`` settings over it.

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


def _provider_setting() -> str:
    """Where :func:`configured_provider` comes from, as an operator would fix it."""
    if getattr(settings, SERVICE_CLASS_VARIABLE, None) is not None:
        return f"the Django setting {SERVICE_CLASS_VARIABLE}"
    if os.environ.get(SERVICE_CLASS_VARIABLE):
        return SERVICE_CLASS_VARIABLE
    alias = AMS_SETTING_ALIASES[SERVICE_CLASS_VARIABLE]
    if getattr(settings, alias, None):
        return f"the Django setting {alias}"
    return f"the Django setting {SERVICE_CLASS_VARIABLE}"


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
    named_by = "get_billing_service()'s provider" if provider else _provider_setting()
    key = resolve_provider_class(value, setting=named_by) if value else type(None)
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


def on_reset(callback: Callable[[], None]) -> None:
    """Have :func:`reset_billing_service` call ``callback`` before it closes the services.

    For what is built on a service and must stop with it (the webhook worker of
    :mod:`.processing`); registering the same callback twice registers it once.
    """
    with _lock:
        if callback not in _on_reset:
            _on_reset.append(callback)


def reset_billing_service() -> None:
    """Forget the services (after settings change, e.g. in tests); the next call rebuilds.

    What was built on them stops first (the webhook worker thread), then each service closes
    what it owns: the provider's HTTP connections, the SQL stores' pool if any.
    """
    with _lock:
        callbacks = list(_on_reset)
    for callback in callbacks:
        callback()
    with _lock:
        for service in _services.values():
            service.close()
        _services.clear()


__getattr__ = moved(
    __name__,
    dict.fromkeys(
        (
            "PROCESSING_SETTING",
            "DjangoBackgroundProcessor",
            "get_processor",
            "keep_delivery",
            "webhook_processing",
        ),
        "ams_billing.contrib.django.processing",
    ),
)
