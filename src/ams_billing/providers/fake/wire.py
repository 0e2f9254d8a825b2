"""The fake provider's webhook wire format: neutral events as JSON, converted with cattrs."""

from __future__ import annotations

import json
from datetime import UTC

import attrs

from ams_billing.core.convert import converter
from ams_billing.core.errors import FieldError, ValidationError
from ams_billing.core.models import WebhookEvent

__all__ = ["FakeDeliveryBody", "decode_delivery", "encode_delivery"]


@attrs.frozen
class FakeDeliveryBody:
    """The JSON body of a fake delivery: events plus the sequence range they cover."""

    events: tuple[WebhookEvent, ...]
    first_sequence: int
    last_sequence: int
    tenant_id: str


def encode_delivery(body: FakeDeliveryBody) -> bytes:
    """Serialise a delivery body to bytes (what gets signed)."""
    return json.dumps(converter.unstructure(body), separators=(",", ":")).encode("utf-8")


def decode_delivery(raw: bytes) -> FakeDeliveryBody:
    """Parse a delivery body; raises ValidationError for anything that is not one."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValidationError([FieldError("body", f"is not JSON ({error})")]) from None
    try:
        body = converter.structure(data, FakeDeliveryBody)
    except Exception as error:
        raise ValidationError([FieldError("body", f"is not a fake delivery ({error!r})")]) from None
    for event in body.events:
        if event.occurred_at.tzinfo is None:
            return attrs.evolve(
                body,
                events=tuple(
                    attrs.evolve(e, occurred_at=e.occurred_at.replace(tzinfo=UTC))
                    if e.occurred_at.tzinfo is None
                    else e
                    for e in body.events
                ),
            )
    return body
