"""Xero webhook deliveries: verify the signature over the raw bytes, then parse leniently.

Verification: ``x-xero-signature`` must be Base64(HMAC-SHA256(``XERO_WEBHOOK_KEY``, body)) of
the body *exactly as received*, compared in constant time. That is also all the
Intent-to-Receive check needs: its correctly signed requests (``{"events": [],
"firstEventSequence": 0, ...}``) verify and parse to an empty delivery (answer 200), its badly
signed ones raise :class:`~ams_billing.core.errors.WebhookVerificationError` (answer 401).

Parsing is lenient where Xero's documents disagree with its payloads: ``eventType`` and
``eventCategory`` in any case (``Update``/``UPDATE``), ``eventDateUtc`` without a zone (UTC)
and with seven fractional digits, sequence numbers of 0, unknown categories and types kept as
``OTHER``. Events of other tenants are dropped when ``XERO_TENANT_ID`` is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import cattrs

from ams_billing.core.errors import FieldError, ValidationError, WebhookVerificationError
from ams_billing.core.models import EventCategory, EventType, WebhookDelivery, WebhookEvent
from ams_billing.core.signing import header_value, signature_matches
from ams_billing.providers.xero import wire
from ams_billing.providers.xero.settings import Secret

__all__ = ["SIGNATURE_HEADER", "parse_delivery", "verify_and_parse"]

SIGNATURE_HEADER = "x-xero-signature"
"""The header carrying the delivery's signature."""

_CATEGORIES = {category.value: category for category in EventCategory}
_TYPES = {event_type.value: event_type for event_type in EventType}


def verify_and_parse(
    body: bytes, headers: Mapping[str, str], key: Secret, tenant_id: str | None
) -> WebhookDelivery:
    """Verify ``body`` against its signature header, then parse it (see the module docs)."""
    signature = header_value(headers, SIGNATURE_HEADER)
    if signature is None:
        raise WebhookVerificationError(f"the delivery has no {SIGNATURE_HEADER} header")
    if not signature_matches(body, signature, key.reveal()):
        raise WebhookVerificationError(
            f"the {SIGNATURE_HEADER} header does not sign this body with XERO_WEBHOOK_KEY "
            "(a forged or altered delivery, an Intent-to-Receive probe, or a wrong key)"
        )
    return parse_delivery(body, tenant_id)


def parse_delivery(body: bytes, tenant_id: str | None) -> WebhookDelivery:
    """Parse a verified body into the core's delivery; events of other tenants are dropped."""
    try:
        data = wire.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            raise TypeError("no events array")
        payload = wire.structure(data, wire.WebhookPayload)
    # RecursionError: a signed but absurdly nested body (json recurses per level).
    except (ValueError, TypeError, KeyError, RecursionError, cattrs.BaseValidationError) as error:
        raise ValidationError(
            [FieldError("body", f"is not a Xero webhook delivery ({type(error).__name__})")]
        ) from None
    wanted = tenant_id.lower() if tenant_id else None
    events = []
    for index, event in enumerate(payload.events):
        if wanted and event.tenant_id and event.tenant_id.lower() != wanted:
            continue
        events.append(_event(event, index))
    return WebhookDelivery(tuple(events), payload.first_event_sequence, payload.last_event_sequence)


def _event(event: wire.WebhookEventBody, index: int) -> WebhookEvent:
    if not event.resource_id:
        raise ValidationError.for_field(f"events[{index}].resourceId", "is missing")
    try:
        occurred = wire.parse_ms_datetime(event.event_date_utc) if event.event_date_utc else None
    except ValueError:
        raise ValidationError.for_field(
            f"events[{index}].eventDateUtc", f"{event.event_date_utc!r} is not a date and time"
        ) from None
    return WebhookEvent(
        category=_CATEGORIES.get((event.event_category or "").upper(), EventCategory.OTHER),
        event_type=_TYPES.get((event.event_type or "").upper(), EventType.OTHER),
        resource_id=event.resource_id,
        occurred_at=occurred or datetime.now(UTC),
        tenant_id=event.tenant_id,
        resource_url=event.resource_url,
    )
