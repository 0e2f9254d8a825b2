"""Stripe webhook deliveries: ``Stripe-Signature`` checked over the raw bytes, then parsed.

The header is ``t=<unix time>,v1=<hex>[,v1=<hex>…][,v0=<hex>]`` (the reference, 8.4): each
``v1`` is HMAC-SHA256, keyed with the whole ``whsec_…`` secret, of ``"<t>.<raw body>"``. A
delivery verifies when **any** ``v1`` matches under **any** configured secret (while a secret
is rolled, Stripe signs with the old and the new one, and ``STRIPE_WEBHOOK_SECRET`` may hold
both), compared in constant time, and when ``t`` is no older than the tolerance (300 s, as
stripe-python's default: a captured delivery replayed later is refused). ``v0`` (test mode's
fake scheme) and every other scheme are ignored, never trusted.

The header must be exactly Stripe's shape: ``t`` once, in digits; every ``v1`` 64 lower-case
hex digits; nothing else but ``scheme=value`` pairs. Anything else (white space, case changes,
a truncated or doubled value) is refused, so an almost-right header never verifies.

One delivery is one event (a ``snapshot`` event: ``data.object`` is the whole object as it was).
Events about invoices become core events naming the invoice; ``invoice.created`` is a CREATE,
every other ``invoice.*`` an UPDATE; other objects are kept as ``OTHER``. An event for another
account (``account`` set and not ``STRIPE_ACCOUNT_ID``) or for the other mode (``livemode``
differs from the key's) is dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from ams_billing.core.errors import FieldError, ValidationError, WebhookVerificationError
from ams_billing.core.models import (
    EventCategory,
    EventType,
    Invoice,
    WebhookDelivery,
    WebhookEvent,
)
from ams_billing.core.secret import Secret
from ams_billing.core.signing import header_value
from ams_billing.providers.stripe.mapping import to_invoice

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "parse_event",
    "sign",
    "signature_header",
    "verify",
    "verify_and_parse",
]

SIGNATURE_HEADER = "stripe-signature"
"""The header carrying the delivery's signatures."""

DEFAULT_TOLERANCE = timedelta(seconds=300)
"""How old a delivery's timestamp may be: stripe-python's ``DEFAULT_TOLERANCE``."""

_PAIR = re.compile(r"([a-z][a-z0-9]*)=([^,=\s]+)")
_HEX = re.compile(r"[0-9a-f]{64}")
_DIGITS = re.compile(r"[0-9]{1,12}")
_CATEGORIES = {
    "invoice": EventCategory.INVOICE,
    "customer": EventCategory.CONTACT,
    "credit_note": EventCategory.CREDIT_NOTE,
}


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The ``v1`` signature of ``body`` at ``timestamp`` under ``secret`` (hex)."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """A ``Stripe-Signature`` value signing ``body`` at ``timestamp`` with every secret."""
    return ",".join([f"t={timestamp}", *(f"v1={sign(body, s, timestamp)}" for s in secrets)])


def _parse_header(value: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        match = _PAIR.fullmatch(part)
        if match is None:
            raise WebhookVerificationError(
                f"the {SIGNATURE_HEADER} header is not Stripe's t=…,v1=… list"
            )
        scheme, given = match.groups()
        if scheme == "t":
            if timestamp is not None or not _DIGITS.fullmatch(given):
                raise WebhookVerificationError(
                    f"the {SIGNATURE_HEADER} header's timestamp is missing or malformed"
                )
            timestamp = int(given)
        elif scheme == "v1":
            if not _HEX.fullmatch(given):
                raise WebhookVerificationError(
                    f"a v1 signature in the {SIGNATURE_HEADER} header is malformed"
                )
            signatures.append(given)
    if timestamp is None:
        raise WebhookVerificationError(f"the {SIGNATURE_HEADER} header has no timestamp")
    if not signatures:
        raise WebhookVerificationError(
            f"the {SIGNATURE_HEADER} header has no signature with the v1 scheme"
        )
    return timestamp, signatures


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[Secret],
    *,
    now: datetime,
    tolerance: timedelta | None = DEFAULT_TOLERANCE,
) -> int:
    """Check the signatures of ``body``; return the signing time. Raise when it is not valid.

    :raises WebhookVerificationError: no or a malformed header, no ``v1`` matching under any
        secret, or a timestamp older than ``tolerance``. The message never shows a signature.
    """
    if not secrets:
        raise WebhookVerificationError(
            "STRIPE_WEBHOOK_SECRET is not set, so no delivery can be verified"
        )
    value = header_value(headers, SIGNATURE_HEADER)
    if not value:
        raise WebhookVerificationError(f"the delivery has no {SIGNATURE_HEADER} header")
    timestamp, given = _parse_header(value)
    matched = False
    for secret in secrets:
        expected = sign(body, secret.reveal(), timestamp).encode("ascii")
        for signature in given:
            # Every comparison is made, so the time taken says nothing about which matched.
            matched |= hmac.compare_digest(expected, signature.encode("ascii"))
    if not matched:
        raise WebhookVerificationError(
            f"no v1 signature in the {SIGNATURE_HEADER} header signs this body with "
            "STRIPE_WEBHOOK_SECRET (a forged or altered delivery, or another endpoint's secret)"
        )
    if tolerance is not None:
        age = now - datetime.fromtimestamp(timestamp, UTC)
        if age > tolerance:
            raise WebhookVerificationError(
                f"the delivery was signed {age.total_seconds():.0f} s ago, beyond the "
                f"{tolerance.total_seconds():.0f} s tolerated: a replayed delivery"
            )
    return timestamp


def parse_event(
    body: bytes,
    *,
    livemode: bool,
    account_id: str | None,
    snapshot: Callable[[Mapping[str, Any]], Invoice | None] | None = None,
) -> WebhookDelivery:
    """Parse a verified body (one Stripe event) into the core's delivery.

    ``snapshot`` turns the event's ``data.object`` into the invoice it shows (``None``: none).
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise ValidationError(
            [FieldError("body", f"is not a Stripe event ({type(error).__name__})")]
        ) from None
    if not isinstance(data, dict) or data.get("object") != "event":
        raise ValidationError([FieldError("body", "is not a Stripe event (no object: event)")])
    event_type = data.get("type")
    inner = data.get("data")
    obj = inner.get("object") if isinstance(inner, dict) else None
    if not isinstance(event_type, str) or not isinstance(obj, dict):
        raise ValidationError([FieldError("body", "is not a Stripe event (no type or data)")])
    resource_id = obj.get("id")
    if not isinstance(resource_id, str) or not resource_id:
        raise ValidationError.for_field("data.object.id", "is missing")
    created = data.get("created")
    if isinstance(created, bool) or not isinstance(created, int):
        raise ValidationError.for_field("created", "is not a Unix time")
    account = data.get("account")
    if (isinstance(account, str) and account != account_id) or (
        data.get("livemode") is not None and bool(data.get("livemode")) != livemode
    ):
        return WebhookDelivery(())
    category = _CATEGORIES.get(str(obj.get("object")), EventCategory.OTHER)
    kind = EventType.OTHER
    if category is not EventCategory.OTHER:
        kind = EventType.CREATE if event_type.endswith(".created") else EventType.UPDATE
    state = None
    if category is EventCategory.INVOICE and snapshot is not None:
        state = snapshot(obj)
    event = _event(category, kind, resource_id, created, account, state)
    return WebhookDelivery((event,))


def _event(  # noqa: PLR0917 - a private builder, called once
    category: EventCategory,
    kind: EventType,
    resource_id: str,
    created: int,
    account: object,
    state: Invoice | None,
) -> WebhookEvent:
    fields: dict[str, Any] = {
        "category": category,
        "event_type": kind,
        "resource_id": resource_id,
        "occurred_at": datetime.fromtimestamp(created, UTC),
        "tenant_id": account if isinstance(account, str) else None,
    }
    if state is not None and "snapshot" in attrs.fields_dict(WebhookEvent):
        fields["snapshot"] = state
    return WebhookEvent(**fields)


def verify_and_parse(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[Secret],
    *,
    now: datetime,
    livemode: bool,
    account_id: str | None,
    tolerance: timedelta | None = DEFAULT_TOLERANCE,
) -> WebhookDelivery:
    """:func:`verify`, then :func:`parse_event` with the invoice snapshot (no network call)."""
    verify(body, headers, secrets, now=now, tolerance=tolerance)
    return parse_event(body, livemode=livemode, account_id=account_id, snapshot=_snapshot)


def _snapshot(obj: Mapping[str, Any]) -> Invoice | None:
    try:
        return to_invoice(obj)
    except Exception:
        return None
