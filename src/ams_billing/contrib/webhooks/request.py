"""What the WSGI and ASGI apps share: the size cap, the read timeout, and the verdict."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from ams_billing.core.env import NumberRange
from ams_billing.core.errors import ConfigurationError
from ams_billing.core.models import WebhookDelivery
from ams_billing.core.service import BillingService

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_READ_TIMEOUT",
    "WebhookEndpoint",
    "check_read_timeout",
]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Deliveries larger than this are refused unread (413): Xero's are a few KiB."""

DEFAULT_READ_TIMEOUT = 10.0
"""Seconds the bundled servers wait for the next bytes of a request before giving up on it.

Xero sends a few KiB at once and waits 5 seconds for the answer, so a genuine delivery never
comes near it; a client that stalls mid-request is answered 408 (or dropped) after it.
"""

_READ_TIMEOUT_RANGE = NumberRange(0, 3600, "give seconds, e.g. 10", low_open=True)


def check_read_timeout(value: float) -> float:
    """Return ``value`` if it is a usable read timeout (seconds, finite, 0 < t <= 3600)."""
    problem = _READ_TIMEOUT_RANGE.problem("read_timeout", value)
    if problem is not None:
        raise ConfigurationError("the webhook endpoint is not configured correctly:", [problem])
    return float(value)


@attrs.frozen
class WebhookEndpoint:
    """The framework-neutral webhook endpoint: verify, answer, hand over for processing.

    ``on_delivery`` receives each verified delivery that carries events (one without, such as
    Xero's Intent-to-Receive check, is answered and kept nowhere); give it
    ``BackgroundProcessor(service).submit``.
    """

    service: BillingService
    on_delivery: Callable[[WebhookDelivery], object] | None = None
    path: str | None = "/billing/xero/webhooks/"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    def answer(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> int:
        """The status to answer with an empty body; hands a verified delivery over."""
        if self.path is not None and path.rstrip("/") != self.path.rstrip("/"):
            return 404
        if method != "POST":
            return 405
        response = self.service.handle_webhook(body, headers)
        if response.delivery is not None and response.delivery.events and self.on_delivery:
            self.on_delivery(response.delivery)
        return response.status
