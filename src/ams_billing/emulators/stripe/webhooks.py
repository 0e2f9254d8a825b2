"""Signed webhook deliveries (§8.3, §8.4).

Each event waits, per endpoint that wants it, until :meth:`WebhookSender.deliver` posts it (the
control surface, :meth:`StripeEmulator.deliver_webhooks`, or a served emulator's background
thread). The body is the event's JSON; ``Stripe-Signature: t=<ts>,v1=<hex>`` is HMAC-SHA256 of
``"<ts>.<body>"`` keyed with the endpoint's whole ``whsec_…`` secret, ``ts`` the emulator's
clock unless a time is chosen (to test tolerance and replay). A 2xx acknowledges; anything else
(or no answer within ``webhook_timeout``) leaves the event pending for the next delivery, and
counts as a failure in ``delivery_success``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

import attrs
import httpx

__all__ = ["DeliveryAttempt", "Poster", "WebhookSender", "sign_payload", "signature_header"]

Poster = Callable[[str, bytes, dict[str, str]], int]
"""Posts ``body`` with ``headers`` to ``url``; returns the HTTP status (raises on no answer)."""


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The hex ``v1`` signature of ``payload`` at ``timestamp`` with ``secret``."""
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(payload: bytes, secrets: list[str], timestamp: int) -> str:
    """A ``Stripe-Signature`` header: one ``v1`` per secret (several during a rotation)."""
    parts = [f"t={timestamp}", *(f"v1={sign_payload(payload, s, timestamp)}" for s in secrets)]
    return ",".join(parts)


@attrs.frozen
class DeliveryAttempt:
    """One post of one event to one endpoint."""

    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    timestamp: int
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the endpoint acknowledged with a 2xx."""
        return self.status is not None and 200 <= self.status < 300

    def as_json(self) -> dict[str, object]:
        """The control surface's rendering."""
        return attrs.asdict(self) | {"ok": self.ok}


def encode_event(body: dict[str, object]) -> bytes:
    """The delivery body: the event's JSON, pretty-printed as Stripe's are."""
    return json.dumps(body, indent=2).encode()


class WebhookSender:
    """Posts deliveries over HTTP (or through ``poster``, for in-process tests)."""

    def __init__(self, timeout: float, poster: Poster | None = None) -> None:
        self._timeout = timeout
        self._poster = poster

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        """Post one delivery; ``(status, None)`` or ``(None, reason)`` when nothing answered."""
        try:
            if self._poster is not None:
                return self._poster(url, body, headers), None
            with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
                return client.post(url, content=body, headers=headers).status_code, None
        except Exception as error:  # any failure to deliver is a failed delivery
            return None, f"{type(error).__name__}: {str(error)[:200]}"


def delivery_headers(payload: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """The headers Stripe sends with a delivery."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "Stripe-Signature": signature_header(payload, [secret], timestamp),
    }
