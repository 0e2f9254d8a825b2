"""The process-wide billing services, configured from Django settings or the environment.

The provider is the first of: the Django setting ``AMS_BILLING_SERVICE_CLASS``, the
environment variable of that name, and the AMS's own setting ``BILLING_SERVICE_CLASS``.
Inside the AMS the last two name the AMS's service class
(``ams.billing.providers.xero.XeroBillingService``), which after its migration is
:class:`ams_billing.contrib.ams.XeroBillingService` and says which provider it runs on.
``AMS_BILLING_EMAIL_WHITELIST_REGEX`` falls back to the AMS's ``BILLING_EMAIL_WHITELIST_REGEX``
the same way.
"""

from __future__ import annotations

import os
import threading

from django.conf import settings

from ams_billing.contrib.django.signals import SignalListener
from ams_billing.contrib.webhooks.processor import BackgroundProcessor
from ams_billing.core.loading import SERVICE_CLASS_VARIABLE, load_service, resolve_provider_class
from ams_billing.core.service import BillingService

__all__ = [
    "AMS_SETTING_ALIASES",
    "configured_provider",
    "get_billing_service",
    "get_processor",
    "reset_billing_service",
    "settings_environ",
]

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


def get_billing_service(provider: str | None = None) -> BillingService:
    """The service of ``provider`` (default: the configured one), built once per process.

    Values naming the same provider class share one service, so its idempotency ledger,
    invoice state and HTTP connections serve the whole process. The Django signal
    :data:`~ams_billing.contrib.django.signals.invoice_changed` is its listener.
    """
    value = (provider or configured_provider()).strip()
    key = resolve_provider_class(value) if value else type(None)
    with _lock:
        service = _services.get(key)
        if service is None:
            service = load_service(
                value or None, environ=settings_environ(), listeners=[SignalListener()]
            )
            _services[key] = service
        return service


def get_processor() -> BackgroundProcessor:
    """The background processor that handles deliveries after the response."""
    global _processor  # noqa: PLW0603 - one worker per process
    service = get_billing_service()
    with _lock:
        if _processor is None or _processor.service is not service:
            _processor = BackgroundProcessor(service)
        return _processor


def reset_billing_service() -> None:
    """Forget the services (after settings change, e.g. in tests); the next call rebuilds."""
    global _processor  # noqa: PLW0603
    with _lock:
        if _processor is not None:
            _processor.close()
        for service in _services.values():
            close = getattr(service.provider, "close", None)
            if callable(close):
                close()  # the provider's HTTP connections
        _services.clear()
        _processor = None
