"""Stripe's failures mapped onto the core's error tree (the reference, 6.1 and 6.2).

=============================================== ==============================================
Stripe answers                                  the provider raises
=============================================== ==============================================
400 ``idempotency_error`` (key reused with      IdempotencyConflictError
other parameters)
400/402 ``invalid_request_error``/``card_error`` ValidationError naming ``param`` (in the core's
                                                terms where one maps, else Stripe's)
400 ``invoice_not_editable`` and other refusals InvalidStateError
of the resource's state
401                                             AuthenticationError naming STRIPE_SECRET_KEY
403                                             AuthenticationError (a restricted key without
                                                the permission)
404 ``resource_missing``                        NotFoundError with the id asked for
409 (the same key in flight, a conflict)        ProviderUnavailableError (retryable)
429 (``rate_limit``, ``lock_timeout``)          RateLimitedError
5xx, no answer                                  ProviderUnavailableError
=============================================== ==============================================

Messages carry Stripe's own text, the status, ``type``, ``code`` and ``Request-Id``: never the
key, which Stripe does not echo.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import httpx

from ams_billing.core.errors import (
    AuthenticationError,
    BillingError,
    FieldError,
    IdempotencyConflictError,
    InvalidStateError,
    NotFoundError,
    ProviderUnavailableError,
    RateLimitedError,
    ValidationError,
)

__all__ = ["StripeError", "error_for_response", "stripe_error"]

_MAX_TEXT = 300

# Stripe codes that refuse a call in the resource's present state, not its content.
_STATE_CODES = frozenset(
    {
        "invoice_not_editable",
        "invoice_no_customer_line_items",
        "invoice_payment_intent_requires_action",
        "resource_already_exists",
        "invoice_already_paid",
        "invoice_not_open",
    }
)

# Stripe's parameter names (at the start of ``param``) -> the core's field names.
_PARAMS = {
    "email": "email",
    "name": "name",
    "currency": "currency",
    "due_date": "due_date",
    "description": "description",
    "quantity": "quantity",
    "unit_amount_decimal": "unit_amount",
    "amount": "unit_amount",
}

_KEY_FIX = (
    "check STRIPE_SECRET_KEY: a rolled or deleted key stops working, and a key of another "
    "account or mode (test vs live) does not see these objects"
)


@attrs.frozen
class StripeError:
    """The ``error`` object of a Stripe answer (the fields the provider uses)."""

    status: int
    type: str | None = None
    code: str | None = None
    message: str | None = None
    param: str | None = None
    request_id: str | None = None
    should_retry: bool | None = None

    def describe(self) -> str:
        """Stripe's words, with the status, type, code and request id (no secret)."""
        parts = [f"Stripe answered {self.status}"]
        detail = ", ".join(p for p in (self.type, self.code) if p)
        if detail:
            parts.append(f"({detail})")
        text = " ".join(parts)
        if self.message:
            text += f": {self.message[:_MAX_TEXT]}"
        if self.request_id:
            text += f" [Request-Id {self.request_id}]"
        return text


def stripe_error(response: httpx.Response) -> StripeError:
    """Read the ``error`` object of a failed answer (leniently: any body may come back)."""
    body: Any = None
    try:
        body = json.loads(response.content or b"null")
    except (ValueError, RecursionError):
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}

    def text(name: str) -> str | None:
        value = error.get(name)
        return value if isinstance(value, str) and value else None

    should = response.headers.get("stripe-should-retry")
    return StripeError(
        status=response.status_code,
        type=text("type"),
        code=text("code"),
        message=text("message") or (None if error else response.text[:_MAX_TEXT] or None),
        param=text("param"),
        request_id=response.headers.get("request-id"),
        should_retry=None if should is None else should.strip().lower() == "true",
    )


def core_field(param: str | None, fields: dict[str, str] | None = None) -> str:
    """The core's name for Stripe's ``param`` (``fields`` maps call-specific params first)."""
    if not param:
        return "request"
    if fields and param in fields:
        return fields[param]
    root = param.split("[", 1)[0]
    if fields and root in fields:
        return fields[root]
    return _PARAMS.get(root, param)


def error_for_response(
    response: httpx.Response,
    *,
    resource_id: str | None = None,
    idempotency_key: str | None = None,
    fields: dict[str, str] | None = None,
) -> BillingError:
    """The core's error for a failed Stripe answer (see the module's table)."""
    error = stripe_error(response)
    status = error.status
    said = error.describe()
    if error.type == "idempotency_error" and status in (400, 404):
        conflict = IdempotencyConflictError(
            idempotency_key or "", f" (Stripe: {error.message or 'idempotency_error'})"
        )
        return conflict
    if status == 401:
        return AuthenticationError(f"{said}. {_KEY_FIX}")
    if status == 403:
        return AuthenticationError(
            f"{said}. The key lacks a permission this call needs: give the restricted key "
            "write access to Customers and Invoices, or use the secret key"
        )
    if status == 404 and error.type != "idempotency_error":
        return NotFoundError(said, resource_id=resource_id)
    if status == 429 or error.code in ("rate_limit", "lock_timeout"):
        return RateLimitedError(said, limit=error.code or "rate")
    if status == 409:
        return ProviderUnavailableError(f"{said}; retry with the same idempotency key")
    if status >= 500 or status < 400:
        return ProviderUnavailableError(said)
    if error.code in _STATE_CODES:
        return InvalidStateError(said, resource_id=resource_id)
    if status in (400, 402):
        field = core_field(error.param, fields)
        return ValidationError(
            [FieldError(field, error.message or said, "correct the value Stripe refused")],
            message=said,
        )
    return ProviderUnavailableError(said)
