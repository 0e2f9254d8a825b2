"""Turning Xero's failures into the core's errors, with the operator's fix in the message.

=========================================== ===================================================
Xero says                                   the provider raises
=========================================== ===================================================
token endpoint 400 ``invalid_client``       AuthenticationError naming XERO_CLIENT_ID/SECRET
token endpoint 400 ``invalid_scope``        AuthenticationError naming XERO_SCOPES
401 ``TokenExpired`` (after one re-mint)    AuthenticationError
401 ``AuthorizationUnsuccessful``           AuthenticationError naming the scopes to tick
403 ``AuthenticationUnsuccessful``          AuthenticationError naming XERO_TENANT_ID
400 ``ValidationException`` / element       ValidationError, fields mapped to the core's names
    errors under ``summarizeErrors=false``
400 "Idempotency Key ... different request" IdempotencyConflictError
404                                         NotFoundError
429                                         RateLimitedError (``retry_after``, ``limit``)
5xx, network failure, timeout               ProviderUnavailableError
=========================================== ===================================================

Messages never carry a secret: only Xero's own error text, status codes and ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Literal, Protocol

import cattrs
import httpx

from ams_billing.core.errors import (
    AuthenticationError,
    BillingError,
    FieldError,
    IdempotencyConflictError,
    NotFoundError,
    ProviderUnavailableError,
    ValidationError,
)
from ams_billing.providers.xero import wire

__all__ = [
    "SCOPE_FIX",
    "HasMessages",
    "element_messages",
    "error_for_response",
    "exception_messages",
    "field_errors",
    "problem_detail",
    "response_text",
]

SCOPE_FIX = (
    "give the custom connection the scopes accounting.contacts and accounting.transactions "
    "(a connection created from 29 April 2026 has granular scopes: accounting.contacts and "
    "accounting.invoices) in the Xero developer portal, then have it re-authorised"
)
TENANT_FIX = (
    "XERO_TENANT_ID must be the Tenant ID shown under Connection management for this "
    "connection (or be left empty); a revoked connection, an organisation that is no longer "
    "active, or a Demo Company reset gives this too: re-authorise the connection and copy the "
    "new Tenant ID"
)
CREDENTIALS_FIX = (
    "check XERO_CLIENT_ID and XERO_CLIENT_SECRET (a secret regenerated in the developer portal "
    "replaces the old one) and that the custom connection is still authorised"
)

Kind = Literal["contact", "invoice"]
_MAX_TEXT = 200

# (pattern, core field) — first match wins; checked against Xero's message in lower case.
_FIELD_RULES: tuple[tuple[str, str], ...] = (
    (r"idempotency", "idempotency_key"),
    (r"contact name|a contact name", "name"),
    (r"email", "email"),
    (r"contact number|account number|contactnumber|accountnumber", "account_reference"),
    (r"first ?name", "first_name"),
    (r"last ?name", "last_name"),
    (r"account code|account id|accountcode|tax ?type|account must", "account_code"),
    (r"currency", "currency"),
    (r"due ?date", "due_date"),
    (r"\bdate\b", "issue_date"),
    (r"reference", "reference"),
    (r"description", "description"),
    (r"quantity", "quantity"),
    (r"unit ?amount", "unit_amount"),
    (r"line ?item|line amount", "line_items"),
)
_CONTACT_FIELDS = {"name", "email", "account_reference", "first_name", "last_name"}
_LINE_FIELDS = {"description", "quantity", "unit_amount", "account_code"}


def response_text(response: httpx.Response) -> str:
    """A short plain-text body (Xero's 404/503 texts) for an error message, else ``""``."""
    if "json" in response.headers.get("content-type", "") or not response.content:
        return ""
    text = response.text.strip().replace("\n", " ")
    return text if len(text) <= _MAX_TEXT and "<" not in text else ""


def problem_detail(response: httpx.Response) -> str:
    """The ``Detail`` of a 401/403 problem document ("TokenExpired: ...", ...), or ``""``."""
    try:
        problem = wire.structure(wire.loads(response.content), wire.Problem)
    except (ValueError, TypeError, cattrs.BaseValidationError):
        return response_text(response)
    return problem.detail or ""


class HasMessages(Protocol):
    """Any wire element that carries ``ValidationErrors``."""

    @property
    def validation_errors(self) -> tuple[wire.WireMessage, ...]:
        """The element's own messages."""


def element_messages(element: HasMessages) -> Iterator[tuple[str, str]]:
    """Every validation message of an element as ``(scope, message)``, nested ones included.

    ``scope`` is ``""`` for the element itself, ``"contact"`` or ``"line_items[<i>]"``.
    """
    for message in element.validation_errors:
        yield "", message.message
    contact = getattr(element, "contact", None)
    if contact is not None:
        for message in contact.validation_errors:
            yield "contact", message.message
    for index, line in enumerate(getattr(element, "line_items", None) or ()):
        for message in line.validation_errors:
            yield f"line_items[{index}]", message.message


def exception_messages(response: httpx.Response) -> list[tuple[str, str]]:
    """The messages of a 400 ``ValidationException`` (or its top-level message alone)."""
    try:
        body = wire.structure(wire.loads(response.content), wire.ValidationException)
    except (ValueError, TypeError, cattrs.BaseValidationError):
        text = response_text(response)
        return [("", text)] if text else []
    messages = [m for element in body.elements for m in element_messages(element)]
    if not messages and body.message:
        messages.append(("", body.message))
    return messages


def field_errors(messages: Iterable[tuple[str, str]], kind: Kind) -> list[FieldError]:
    """Map Xero's messages onto the core's field names for a contact or an invoice request."""
    errors = []
    for scope, message in messages:
        field = _field_for(message.lower())
        if scope == "contact" or (kind == "invoice" and field in _CONTACT_FIELDS):
            path = f"contact.{field}" if field else "contact"
        elif scope.startswith("line_items"):
            path = f"{scope}.{field}" if field in _LINE_FIELDS else scope
        else:
            path = field or "$"
        errors.append(FieldError(path, message, _fix_for(path)))
    return errors


def _field_for(message: str) -> str:
    for pattern, field in _FIELD_RULES:
        if re.search(pattern, message):
            return field
    return ""


def _fix_for(path: str) -> str | None:
    if path.endswith("account_code"):
        return "use an active revenue account code (see XERO_ACCOUNT_CODE)"
    if path == "currency":
        return "use a currency enabled in the organisation (see XERO_CURRENCY_CODE)"
    return None


def validation_error(
    messages: list[tuple[str, str]], kind: Kind, idempotency_key: str | None = None
) -> ValidationError:
    """The ValidationError (or IdempotencyConflictError) for a set of Xero messages."""
    for _, message in messages:
        lowered = message.lower()
        if "idempotency" in lowered and ("different" in lowered or "already" in lowered):
            return IdempotencyConflictError(idempotency_key or "", f" (Xero: {message})")
    errors = field_errors(messages, kind) or [FieldError("$", "Xero refused the request")]
    return ValidationError(errors)


def error_for_response(
    response: httpx.Response,
    *,
    kind: Kind = "invoice",
    resource_id: str | None = None,
    idempotency_key: str | None = None,
) -> BillingError:
    """The core error for a failed (non-2xx) Accounting API response."""
    status = response.status_code
    if status == 400:
        return validation_error(exception_messages(response), kind, idempotency_key)
    if status == 401:
        detail = problem_detail(response)
        if "authorizationunsuccessful" in detail.lower():
            return AuthenticationError(
                f"Xero refused the call for want of a scope (AuthorizationUnsuccessful): "
                f"{SCOPE_FIX}"
            )
        return AuthenticationError(
            f"Xero did not accept the access token ({_short(detail) or 'HTTP 401'}): "
            f"{CREDENTIALS_FIX}"
        )
    if status == 403:
        detail = problem_detail(response)
        if "authenticationunsuccessful" in detail.lower():
            return AuthenticationError(
                f"Xero refused the organisation (403 AuthenticationUnsuccessful): {TENANT_FIX}"
            )
        return AuthenticationError(
            f"Xero refused the call (403 {_short(detail) or 'Forbidden'}): {SCOPE_FIX}"
        )
    if status == 404:
        what = f" {resource_id!r}" if resource_id else ""
        return NotFoundError(f"Xero has no {kind}{what}", resource_id=resource_id)
    text = response_text(response)
    suffix = f": {text}" if text else ""
    if status >= 500:
        return ProviderUnavailableError(f"Xero answered HTTP {status}{suffix}")
    return ProviderUnavailableError(f"Xero answered HTTP {status}{suffix}", retryable=False)


def _short(detail: str) -> str:
    return detail.split(":", 1)[0].strip()[:_MAX_TEXT]
