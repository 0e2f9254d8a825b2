"""``/v1/webhook_endpoints``: create, retrieve, list, update and delete (§8.4).

The ``whsec_`` secret is shown once, in the answer to create.

``enabled_events`` takes event types, ``invoice.*``-style wildcards or ``*``. ``url`` must be
an ``http(s)://`` URL; the emulator posts to plain ``http`` (loopback development) as well.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .context import Answer, Context, not_found
from .errors import StripeError
from .form import as_list
from .lists import LIST_PARAMS, page
from .shapes import endpoint_json
from .state import WebhookEndpoint

__all__ = ["MAX_ENDPOINTS", "handle_endpoints"]

MAX_ENDPOINTS = 16
"""Stripe allows 16 webhook endpoints per account (§8.3)."""


def _url(ctx: Context, required: bool) -> str | None:
    url = ctx.params.string("url", required=required, max_length=5000)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StripeError(400, f"Invalid URL: {url[:200]}", param="url", replayable=False)
    return url


def _events(ctx: Context, required: bool) -> list[str] | None:
    raw = ctx.params.raw("enabled_events")
    if raw is None:
        if required:
            raise StripeError(
                400,
                "Missing required param: enabled_events.",
                code="parameter_missing",
                param="enabled_events",
                replayable=False,
            )
        return None
    events = [raw] if isinstance(raw, str) else as_list(raw)
    if not events or not all(isinstance(e, str) and e for e in events):
        raise StripeError(
            400,
            "Invalid array: enabled_events must list event types",
            param="enabled_events",
            replayable=False,
        )
    return [str(e) for e in events]


def _create(ctx: Context) -> Answer:
    params = ctx.params
    params.allow(("url", "enabled_events", "description", "metadata", "api_version"))
    url = _url(ctx, required=True) or ""
    events = _events(ctx, required=True) or []
    live = [e for e in ctx.account.endpoints.values() if not e.deleted]
    if len(live) >= MAX_ENDPOINTS:
        raise StripeError(
            400, f"You can have at most {MAX_ENDPOINTS} webhook endpoints.", param="url"
        )
    endpoint = WebhookEndpoint(
        id=ctx.ids.new("webhook_endpoint"),
        created=ctx.now,
        url=url,
        secret="whsec_" + ctx.ids.token(32),
        enabled_events=events,
        description=params.string("description", max_length=5000),
        api_version=params.string("api_version", max_length=64),
        metadata={k: v for k, v in (params.metadata() or {}).items() if k and v is not None},
    )
    ctx.account.endpoints[endpoint.id] = endpoint
    return 200, endpoint_json(endpoint, with_secret=True)


def _update(ctx: Context, endpoint: WebhookEndpoint) -> Answer:
    params = ctx.params
    params.allow(("url", "enabled_events", "description", "metadata", "disabled"))
    url = _url(ctx, required=False)
    events = _events(ctx, required=False)
    if url is not None:
        endpoint.url = url
    if events is not None:
        endpoint.enabled_events = events
    if params.has("description"):
        endpoint.description = params.string("description")
    disabled = params.boolean("disabled")
    if disabled is not None:
        endpoint.status = "disabled" if disabled else "enabled"
    for key, value in (params.metadata() or {}).items():
        if key == "":
            endpoint.metadata.clear()
        elif value is None:
            endpoint.metadata.pop(key, None)
        else:
            endpoint.metadata[key] = value
    return 200, endpoint_json(endpoint)


def handle_endpoints(ctx: Context, method: str, parts: list[str]) -> Answer:
    """Answer ``/v1/webhook_endpoints[/{id}]``."""
    if len(parts) == 1:
        if method == "POST":
            return _create(ctx)
        ctx.params.allow(LIST_PARAMS)
        live = [e for e in reversed(ctx.account.endpoints.values()) if not e.deleted]
        return page(
            ctx.params,
            "/v1/webhook_endpoints",
            live,
            lambda e: e.id,
            endpoint_json,
            "webhook_endpoint",
        )
    endpoint = ctx.account.endpoints.get(parts[1])
    if endpoint is None or endpoint.deleted:
        raise not_found("webhook_endpoint", parts[1])
    if method == "GET":
        ctx.params.allow(())
        return 200, endpoint_json(endpoint)
    if method == "DELETE":
        ctx.params.allow(())
        endpoint.deleted = True
        return 200, endpoint_json(endpoint)
    return _update(ctx, endpoint)
