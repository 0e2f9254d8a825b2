"""The process-wide billing service, configured from Django settings or the environment."""

from __future__ import annotations

import os
import threading

from django.conf import settings

from ams_billing.contrib.django.signals import SignalListener
from ams_billing.contrib.webhooks.processor import BackgroundProcessor
from ams_billing.core.loading import load_service
from ams_billing.core.service import BillingService

__all__ = ["get_billing_service", "get_processor", "reset_billing_service", "settings_environ"]

_PREFIXES = ("AMS_BILLING_", "XERO_")
_lock = threading.Lock()
_service: BillingService | None = None
_processor: BackgroundProcessor | None = None


def settings_environ() -> dict[str, str]:
    """The environment with every ``AMS_BILLING_*`` / ``XERO_*`` Django setting laid over it.

    A setting of ``None`` is left out, so it falls back to the environment.
    """
    environ = dict(os.environ)
    for name in dir(settings):
        if name.startswith(_PREFIXES):
            value = getattr(settings, name)
            if value is not None:
                environ[name] = str(value)
    return environ


def get_billing_service() -> BillingService:
    """The service, built once per process, with the Django signal as a listener."""
    global _service  # noqa: PLW0603 - one service per process, built lazily
    with _lock:
        if _service is None:
            _service = load_service(environ=settings_environ(), listeners=[SignalListener()])
        return _service


def get_processor() -> BackgroundProcessor:
    """The background processor that handles deliveries after the response."""
    global _processor  # noqa: PLW0603 - one worker per process
    service = get_billing_service()
    with _lock:
        if _processor is None or _processor.service is not service:
            _processor = BackgroundProcessor(service)
        return _processor


def reset_billing_service() -> None:
    """Forget the service (after settings change, e.g. in tests); the next call rebuilds it."""
    global _service, _processor  # noqa: PLW0603
    with _lock:
        if _processor is not None:
            _processor.close()
        close = getattr(_service.provider, "close", None) if _service is not None else None
        if callable(close):
            close()  # the provider's HTTP connections
        _service = None
        _processor = None
