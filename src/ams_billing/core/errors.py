"""The one error hierarchy of ams-billing.

Every provider maps its failures onto these classes, so an AMS catches the same exceptions
whichever accounting system it bills through::

    BillingError
    ├── ConfigurationError             settings missing or invalid; nothing was called
    │   └── ProviderNotFoundError      AMS_BILLING_SERVICE_CLASS names nothing installed
    ├── ValidationError                the request was refused; ``errors`` names each field
    │   └── IdempotencyConflictError   one idempotency key reused for a different request
    ├── AuthenticationError            credentials refused, token not accepted, wrong tenant
    ├── RateLimitedError               the provider's limit was hit; ``retry_after`` in seconds
    ├── NotFoundError                  no such contact or invoice
    ├── InvalidStateError              not allowed in the resource's current state
    ├── UnsupportedOperationError      the provider (or this instance of it) cannot do this
    ├── WebhookVerificationError       a webhook delivery whose signature does not verify
    └── ProviderUnavailableError       network failure, timeout, 5xx, provider offline

Errors carry their context as attributes (``field``, ``retry_after``, ``resource_id`` …), and
never a secret: providers must not put credentials, tokens or signing keys into a message. A
bad setting is described by its shape (:func:`describe_value`), never quoted: a secret pasted
into the wrong variable must not be repeated in a traceback.
``ValidationError`` also derives from :class:`ValueError`, so code that validates with attrs or
plain Python can catch it the usual way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

__all__ = [
    "AuthenticationError",
    "BillingError",
    "ConfigurationError",
    "FieldError",
    "IdempotencyConflictError",
    "InvalidStateError",
    "NotFoundError",
    "ProviderNotFoundError",
    "ProviderUnavailableError",
    "RateLimitedError",
    "UnsupportedOperationError",
    "ValidationError",
    "WebhookVerificationError",
    "describe_value",
    "looks_like_a_name",
]

# A provider name (``xero``) or a Python path (``package.module.Class``, ``package.module:Class``)
# made of short identifiers: no secret has this shape, so such a value may be shown.
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}(?:[.:][A-Za-z_][A-Za-z0-9_]{0,39}){1,9}")


def describe_value(value: str) -> str:
    """Say what a setting's value looks like without showing it, e.g. ``36 characters``.

    Errors about settings use this instead of quoting the value, which could be a secret
    pasted into the wrong variable.
    """
    if not value:
        return "empty"
    if not value.strip():
        return f"{len(value)} white-space character{'s' if len(value) != 1 else ''}"
    text = f"{len(value)} character{'s' if len(value) != 1 else ''}"
    if value != value.strip():
        text += " with white space around"
    elif any(char.isspace() for char in value):
        text += " with white space inside"
    return text


def looks_like_a_name(value: str) -> bool:
    """Whether ``value`` is shaped like a provider name or a Python class path, never a secret."""
    return bool(_NAME.fullmatch(value) or _PATH.fullmatch(value))


@attrs.frozen
class FieldError:
    """One problem with one field of a request or a setting.

    ``field`` is a path such as ``line_items[0].quantity`` or an environment variable name such
    as ``XERO_AMOUNT_TYPE``; ``fix`` says in plain words what to do about it.
    """

    field: str
    message: str
    fix: str | None = None

    def __str__(self) -> str:
        text = f"{self.field}: {self.message}"
        return f"{text} ({self.fix})" if self.fix else text


class BillingError(Exception):
    """The root of every error ams-billing raises on purpose."""


class ConfigurationError(BillingError):
    """Settings are missing or invalid; ``errors`` lists every problem found, not just the first."""

    def __init__(self, message: str, errors: Iterable[FieldError] = ()) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        details = "".join(f"\n  - {error}" for error in self.errors)
        super().__init__(f"{message}{details}")


class ProviderNotFoundError(ConfigurationError):
    """The configured provider name or class path cannot be resolved.

    ``available`` lists the entry-point names that are installed. The message quotes the value
    only when it is shaped like a provider name or class path; anything else (a secret pasted
    into ``AMS_BILLING_SERVICE_CLASS``) is described by its length. ``setting`` is what the
    user named the provider with (a variable, a command-line option, an argument): the fix
    names it.
    """

    def __init__(
        self,
        value: str,
        reason: str,
        available: Iterable[str],
        *,
        setting: str = "AMS_BILLING_SERVICE_CLASS",
    ) -> None:
        self.value = value
        self.reason = reason
        self.setting = setting
        self.available: tuple[str, ...] = tuple(sorted(available))
        names = ", ".join(self.available) or "none"
        shown = repr(value) if looks_like_a_name(value) else f"({describe_value(value)})"
        super().__init__(
            f"cannot load billing provider {shown}: {reason}. "
            f"Set {setting} to an installed provider name ({names}) "
            "or to a dotted class path such as ams.billing.providers.xero.XeroBillingService"
        )

    def named_by(self, setting: str) -> ProviderNotFoundError:
        """The same error, for a value the user gave as ``setting``."""
        renamed = ProviderNotFoundError(self.value, self.reason, self.available, setting=setting)
        renamed.__cause__ = self.__cause__
        return renamed


class ValidationError(BillingError, ValueError):
    """A request was refused because of its content; ``errors`` names every field at fault."""

    def __init__(self, errors: Iterable[FieldError], message: str | None = None) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        summary = "; ".join(str(error) for error in self.errors)
        super().__init__(message or f"invalid request: {summary}")

    @classmethod
    def for_field(cls, field: str, message: str, fix: str | None = None) -> ValidationError:
        """Build the error for a single field."""
        return cls([FieldError(field, message, fix)])

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the fields at fault, in order."""
        return tuple(error.field for error in self.errors)


class IdempotencyConflictError(ValidationError):
    """An idempotency key already used for a different request was sent again."""

    def __init__(self, idempotency_key: str, detail: str = "") -> None:
        self.idempotency_key = idempotency_key
        fix = "use a new key for a new request; reuse a key only to retry the same request"
        super().__init__(
            [FieldError("idempotency_key", f"already used for a different request{detail}", fix)]
        )


class AuthenticationError(BillingError):
    """The provider refused the credentials, the token or the tenant."""


class RateLimitedError(BillingError):
    """The provider's rate limit was reached.

    ``retry_after`` is the number of seconds to wait before the next call (``None`` when the
    provider did not say); ``limit`` names the limit that was hit (e.g. ``minute``, ``day``).
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, limit: str | None = None
    ) -> None:
        self.retry_after = retry_after
        self.limit = limit
        super().__init__(message)


class NotFoundError(BillingError):
    """The provider has no resource with this id."""

    def __init__(self, message: str, *, resource_id: str | None = None) -> None:
        self.resource_id = resource_id
        super().__init__(message)


class InvalidStateError(BillingError):
    """The operation is not allowed in the resource's current state (e.g. voiding a paid one)."""

    def __init__(self, message: str, *, resource_id: str | None = None) -> None:
        self.resource_id = resource_id
        super().__init__(message)


class UnsupportedOperationError(BillingError):
    """The provider, or this configured instance of it, does not offer the operation."""

    def __init__(self, message: str, *, capability: str | None = None) -> None:
        self.capability = capability
        super().__init__(message)


class WebhookVerificationError(BillingError):
    """A webhook delivery failed verification: answer it with 401 and do not process it."""


class ProviderUnavailableError(BillingError):
    """The provider could not be reached or failed on its side; the operation may be retried.

    ``retryable`` is false when retrying could not help (e.g. a write without idempotency key
    whose outcome is unknown).
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        self.retryable = retryable
        super().__init__(message)
