"""What the WSGI and ASGI apps share: the size cap and turning a verdict into a response."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from ams_billing.core.models import WebhookDelivery
from ams_billing.core.service import BillingService

__all__ = ["DEFAULT_MAX_BODY_BYTES", "WebhookEndpoint"]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Deliveries larger than this are refused unread (413): Xero's are a few KiB."""


@attrs.frozen
class WebhookEndpoint:
    """The framework-neutral webhook endpoint: verify, answer, hand over for processing.

    ``on_delivery`` receives each verified delivery that carries events (an Intent-to-Receive
    check carries none); give it ``BackgroundProcessor(service).submit``.
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
