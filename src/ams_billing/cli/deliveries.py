"""Sending signed deliveries to an AMS webhook endpoint, as Xero does, and judging the answers.

Xero's rules for the endpoint (xero-api.md §6.2): a correctly signed delivery gets **200**, an
incorrectly signed one **401**, always with an **empty body**, **no cookies**, within **5
seconds**. Intent-to-Receive sends a series of empty deliveries, some badly signed, and an
endpoint that answers 200 to everything fails it. These are requests to the AMS, not to Xero,
so they go through a plain ``httpx`` client (no token, no pacing), redirects not followed.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import string
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx

from ams_billing._version import __version__
from ams_billing.core.signing import sign_body
from ams_billing.providers.xero.webhooks import SIGNATURE_HEADER

__all__ = [
    "DEADLINE",
    "WEBHOOK_PATH",
    "Answer",
    "IntentStep",
    "intent_body",
    "intent_to_receive",
    "is_loopback_url",
    "post_delivery",
    "sample_body",
]

DEADLINE = 5.0
"""Seconds within which Xero wants the answer."""

WEBHOOK_PATH = "/billing/xero/webhooks/"
"""The path the setup guide gives the webhook URL."""

_CLIENT_TIMEOUT = DEADLINE + 1.0


@attrs.frozen
class Answer:
    """How the endpoint answered one delivery (the body is only measured, never kept)."""

    status: int | None
    elapsed: float
    body_length: int = 0
    sets_cookie: bool = False
    error: str | None = None

    def problems(self, expected: int) -> list[str]:
        """What is wrong with this answer, judged by Xero's rules (empty when it is right)."""
        if self.error is not None:
            return [f"no answer ({self.error})"]
        found = []
        if self.status != expected:
            found.append(f"answered {self.status}, not {expected}")
        if self.body_length:
            found.append(f"sent a {self.body_length}-byte body (it must be empty)")
        if self.sets_cookie:
            found.append("set a cookie (it must not)")
        if self.elapsed > DEADLINE:
            found.append(f"took {self.elapsed:.1f} s (Xero waits {DEADLINE:.0f} s)")
        return found

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form."""
        return {
            "status": self.status,
            "elapsed_ms": round(self.elapsed * 1000),
            "body_bytes": self.body_length,
            "sets_cookie": self.sets_cookie,
            "error": self.error,
        }


@attrs.frozen
class IntentStep:
    """One request of the Intent-to-Receive series and how it was answered."""

    description: str
    correctly_signed: bool
    answer: Answer

    @property
    def expected(self) -> int:
        """200 for a correctly signed request, 401 otherwise."""
        return 200 if self.correctly_signed else 401

    @property
    def problems(self) -> list[str]:
        """What was wrong with the answer."""
        return self.answer.problems(self.expected)


def post_delivery(url: str, body: bytes, signature: str | None) -> Answer:
    """POST ``body`` to ``url`` with ``x-xero-signature: signature``; measure the answer."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"ams-billing/{__version__} webhook check",
    }
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=_CLIENT_TIMEOUT, follow_redirects=False) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return Answer(None, time.perf_counter() - started, error=type(error).__name__)
    return Answer(
        response.status_code,
        time.perf_counter() - started,
        body_length=len(response.content),
        sets_cookie="set-cookie" in response.headers,
    )


def _entropy() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))


def intent_body() -> bytes:
    """An Intent-to-Receive body as Xero sends it, with fresh entropy."""
    payload = {"events": [], "lastEventSequence": 0, "firstEventSequence": 0, "entropy": _entropy()}
    return json.dumps(payload).encode()


def sample_body(tenant_id: str | None, invoice_id: str | None = None) -> bytes:
    """A Xero-shaped delivery of one INVOICE UPDATE event (a random invoice id by default)."""
    resource_id = invoice_id or str(uuid.uuid4())
    now = datetime.now(UTC)
    event = {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource_id}",
        "resourceId": resource_id,
        "eventDateUtc": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}",
        "eventType": "UPDATE",
        "eventCategory": "INVOICE",
        "tenantId": tenant_id or str(uuid.UUID(int=0)),
        "tenantType": "ORGANISATION",
    }
    payload = {
        "events": [event],
        "firstEventSequence": 1,
        "lastEventSequence": 1,
        "entropy": _entropy(),
    }
    return json.dumps(payload).encode()


def intent_to_receive(url: str, key: str) -> list[IntentStep]:
    """Xero's Intent-to-Receive series: a wrong key, the right key, an altered body."""
    steps = []
    body = intent_body()
    steps.append(
        IntentStep(
            "signed with another key",
            False,
            post_delivery(url, body, sign_body(body, secrets.token_urlsafe(32))),
        )
    )
    body = intent_body()
    steps.append(
        IntentStep("correctly signed", True, post_delivery(url, body, sign_body(body, key)))
    )
    body = intent_body()
    altered = body.replace(b'"entropy": "', b'"entropy": "X', 1)
    steps.append(
        IntentStep(
            "body altered after signing", False, post_delivery(url, altered, sign_body(body, key))
        )
    )
    return steps


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (http is fine there for local testing)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
