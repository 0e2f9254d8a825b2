"""Events (§8.1, §8.2): made once per change, kept 30 days, listed at ``/v1/events``.

Each event is rendered when it is created: ``data.object`` is a snapshot of the object then,
``data.previous_attributes`` (``*.updated`` only) its changed fields' old values, ``request``
the API request (and ``Idempotency-Key``) that caused it, ``api_version`` the account's
default. ``pending_webhooks`` counts the endpoints that have not acknowledged it yet. Events
older than the retention window (30 days on the emulator's clock) are gone: lists skip them and
retrieving one is a 404.

``GET /v1/events`` filters: ``type`` (``invoice.*`` wildcards), ``types[]`` (≤ 20),
``created[gt|gte|lt|lte]``, ``delivery_success`` (``false``: not yet delivered to some
endpoint).
"""

from __future__ import annotations

import fnmatch
from typing import Any

from .context import Answer, Context, PendingEvent, not_found
from .errors import StripeError
from .form import as_list, in_ranges
from .lists import LIST_PARAMS, page
from .state import Account, EventRecord

__all__ = ["EVENT_TYPES", "event_json", "handle_events", "record_event", "retained"]

EVENT_TYPES = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "invoiceitem.created",
    "invoiceitem.deleted",
    "invoice.created",
    "invoice.updated",
    "invoice.finalized",
    "invoice.sent",
    "invoice.paid",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "invoice.deleted",
)
"""The event types the emulator emits."""


def record_event(
    account: Account,
    event_id: str,
    pending: PendingEvent,
    *,
    created: int,
    api_version: str,
    request_id: str | None,
    idempotency_key: str | None,
) -> EventRecord:
    """Store an event for ``pending`` and queue it for every endpoint that wants it."""
    data: dict[str, Any] = {"object": pending.object}
    if pending.previous_attributes is not None:
        data["previous_attributes"] = pending.previous_attributes
    body = {
        "api_version": api_version,
        "created": created,
        "data": data,
        "id": event_id,
        "livemode": False,
        "object": "event",
        "pending_webhooks": 0,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": pending.type,
    }
    wanting = [e.id for e in account.endpoints.values() if not e.deleted and e.wants(pending.type)]
    record = EventRecord(event_id, created, pending.type, body, pending=wanting)
    account.events[event_id] = record
    return record


def event_json(record: EventRecord) -> dict[str, Any]:
    """The event as the API shows it now (``pending_webhooks`` is live)."""
    return {**record.body, "pending_webhooks": len(record.pending)}


def retained(account: Account, now: int, retention: float) -> list[EventRecord]:
    """The events still inside the retention window, oldest first."""
    return [e for e in account.events.values() if now - e.created < retention]


def handle_events(ctx: Context, method: str, parts: list[str]) -> Answer:
    """Answer ``GET /v1/events[/{id}]``."""
    kept = retained(ctx.account, ctx.now, ctx.config.event_retention)
    if len(parts) == 2:
        ctx.params.allow(())
        for record in kept:
            if record.id == parts[1]:
                return 200, event_json(record)
        raise not_found("event", parts[1])
    params = ctx.params
    params.allow((*LIST_PARAMS, "type", "types", "created", "delivery_success"))
    one = params.string("type", max_length=200)
    raw_types = params.raw("types")
    types = None if raw_types is None else as_list(raw_types)
    if raw_types is not None and (
        types is None or not all(isinstance(t, str) for t in types) or len(types) > 20
    ):
        raise StripeError(
            400, "Invalid array: types lists up to 20 event types", param="types", replayable=False
        )
    if one is not None and types is not None:
        raise StripeError(
            400,
            "You may only specify one of these parameters: type, types.",
            param="types",
            replayable=False,
        )
    created = params.ranges("created")
    delivered = params.boolean("delivery_success")

    def wanted(record: EventRecord) -> bool:
        if one is not None and not fnmatch.fnmatchcase(record.type, one):
            return False
        if types is not None and record.type not in types:
            return False
        if delivered is not None and (not record.pending) != delivered:
            return False
        return in_ranges(record.created, created)

    chosen = [r for r in reversed(kept) if wanted(r)]
    return page(params, "/v1/events", chosen, lambda r: r.id, event_json, "event")
