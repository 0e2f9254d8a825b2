"""``StripeSettings``: the operators' ``STRIPE_*`` variables, validated all at once.

=============================== ========== =====================================================
Variable                        Required   Meaning
=============================== ========== =====================================================
``STRIPE_SECRET_KEY``           yes        a secret key (``sk_test_…``, ``sk_live_…``) or a
                                           restricted key (``rk_test_…``, ``rk_live_…``) with
                                           write access to customers and invoices
``STRIPE_WEBHOOK_SECRET``       no         the endpoint's signing secret (``whsec_…``); while a
                                           secret is rolled, both, comma-separated. Unset: no
                                           webhooks (the capability is left out)
``STRIPE_API_VERSION``          no         the API version every request is pinned to (default
                                           :data:`DEFAULT_API_VERSION`, what stripe-python 16.1.0
                                           pins); create the webhook endpoint with the same
``STRIPE_API_BASE``             no         default ``https://api.stripe.com`` (the emulator's URL
                                           in development)
``STRIPE_CURRENCY``             no         the currency requests are billed in by default
                                           (default ``USD``); each request names its own
``STRIPE_ACCOUNT_ID``           no         ``acct_…``: events naming another account (Connect)
                                           are dropped; unset, any event naming an account is
``STRIPE_TIMEOUT``              no         seconds per request (default 30, more than 0, at
                                           most 600)
``STRIPE_MAX_RETRY_WAIT``       no         the longest wait worth sleeping through before a
                                           retry (default 60 s); longer waits raise
                                           :class:`~ams_billing.core.errors.RateLimitedError`
=============================== ========== =====================================================

and, as for every provider, ``AMS_BILLING_RATE_LIMIT_REDIS_URL`` (the account's rate-limit
budget shared by every process through Redis) and ``AMS_BILLING_RATE_LIMIT_TIME_SCALE`` (tests
and benchmarks on an emulator whose clock runs faster). ``AMS_BILLING_EMAIL_WHITELIST_REGEX``
and ``AMS_BILLING_EMAIL_INVOICES`` are applied by ``load_service()`` for every provider.

The secret key and the webhook secrets are held in :class:`Secret`, which never shows its value
in ``repr``, ``str`` or a log; a bad value is described by its shape, never quoted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from ams_billing.core.env import Environment, EnvReader, NumberRange
from ams_billing.core.errors import ConfigurationError, FieldError, describe_value
from ams_billing.core.models import AmountType, InvoiceDefaults
from ams_billing.core.money import ISO_4217_CODES
from ams_billing.core.secret import Secret

__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_API_VERSION",
    "KEY_PREFIXES",
    "Secret",
    "StripeSettings",
    "key_mode",
]

DEFAULT_API_BASE = "https://api.stripe.com"
"""Where Stripe's v1 REST API lives (paths start ``/v1/``)."""

DEFAULT_API_VERSION = "2026-10-28.endive"
"""The API version requests are pinned to: stripe-python 16.1.0's pin (the reference, 1.2)."""

KEY_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_")
"""The shapes of a key that may call the API (secret or restricted, test or live)."""

_WHAT = "the Stripe billing provider"
_KEY_FIX = (
    "copy the secret key (sk_test_… or sk_live_…) or a restricted key (rk_…) from the "
    "Developers > API keys page of the Stripe Dashboard; a publishable key (pk_…) cannot bill"
)
_WHSEC_FIX = (
    "copy the endpoint's signing secret (whsec_…) from the webhook endpoint's page, or the "
    "secret returned when the endpoint was created; during a roll give both, comma-separated"
)
_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z]+)?")
_KEY_BODY = re.compile(r"[A-Za-z0-9]{8,}")
_WHSEC = re.compile(r"whsec_[A-Za-z0-9+/=_-]{8,}")
_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]+")
_TIMEOUT = NumberRange(0, 600, "give seconds per request, e.g. 30", low_open=True)
_MAX_RETRY_WAIT = NumberRange(0, 86_400, "give seconds, at most a day, e.g. 60")
_TIME_SCALE = NumberRange(
    0.01, 100_000, "leave it unset (1): only tests and benchmarks against an emulator change it"
)


def key_mode(key: str) -> str | None:
    """``test`` or ``live`` for a well-shaped API key, ``None`` for anything else."""
    for prefix in KEY_PREFIXES:
        if key.startswith(prefix) and _KEY_BODY.fullmatch(key[len(prefix) :]):
            return prefix[3:-1]
    return None


def _secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


def _secrets(
    value: str | Secret | tuple[str | Secret, ...] | list[str | Secret],
) -> tuple[Secret, ...]:
    if isinstance(value, Secret):
        value = value.reveal()
    if isinstance(value, str):
        return tuple(Secret(part.strip()) for part in value.split(",") if part.strip())
    return tuple(_secret(each) for each in value)


@attrs.frozen
class StripeSettings:
    """Everything the Stripe provider needs; build with :meth:`from_env` or explicitly.

    Building one validates every field and raises one
    :class:`~ams_billing.core.errors.ConfigurationError` listing each problem, named by its
    environment variable with the fix.
    """

    secret_key: Secret = attrs.field(converter=_secret)
    webhook_secrets: tuple[Secret, ...] = attrs.field(default=(), converter=_secrets)
    api_version: str = DEFAULT_API_VERSION
    api_base: str = DEFAULT_API_BASE
    currency: str = "USD"
    account_id: str | None = None
    timeout: float = 30.0
    max_retry_wait: float = 60.0
    max_attempts: int = 4
    rate_limit_redis_url: str | None = attrs.field(default=None, repr=False)  # may hold a password
    rate_limit_time_scale: float = 1.0

    def __attrs_post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigurationError(f"{_WHAT} is not configured correctly:", problems)

    @property
    def mode(self) -> str:
        """``test`` or ``live``: the world the key bills in."""
        return key_mode(self.secret_key.reveal()) or "test"

    @property
    def livemode(self) -> bool:
        """Whether the key bills real money (``sk_live_``/``rk_live_``)."""
        return self.mode == "live"

    @property
    def api_url(self) -> str:
        """The v1 API root, e.g. ``https://api.stripe.com/v1``."""
        return f"{self.api_base.rstrip('/')}/v1"

    def problems(self) -> list[FieldError]:
        """Every problem with these values, each named by its environment variable."""
        errors: list[FieldError] = []
        key = self.secret_key.reveal()
        if not key.strip():
            errors.append(FieldError("STRIPE_SECRET_KEY", "is not set", _KEY_FIX))
        elif key_mode(key) is None:
            shape = "a publishable key (pk_…)" if key.startswith("pk_") else describe_value(key)
            errors.append(
                FieldError(
                    "STRIPE_SECRET_KEY",
                    f"is not a Stripe secret or restricted key ({shape})",
                    _KEY_FIX,
                )
            )
        for secret in self.webhook_secrets:
            if not _WHSEC.fullmatch(secret.reveal()):
                errors.append(
                    FieldError(
                        "STRIPE_WEBHOOK_SECRET",
                        "is not a webhook signing secret "
                        f"(one part is {describe_value(secret.reveal())}, not whsec_…)",
                        _WHSEC_FIX,
                    )
                )
                break
        if not _VERSION.fullmatch(self.api_version or ""):
            errors.append(
                FieldError(
                    "STRIPE_API_VERSION",
                    f"is not an API version ({describe_value(self.api_version or '')})",
                    f"use a version such as {DEFAULT_API_VERSION}, or leave it unset",
                )
            )
        if not re.match(r"https?://[^/\s]+", self.api_base or "") or any(
            c.isspace() for c in self.api_base
        ):
            errors.append(
                FieldError(
                    "STRIPE_API_BASE",
                    f"is not an http(s) URL ({describe_value(self.api_base or '')})",
                    "leave it unset for Stripe; set it to the emulator's URL in development",
                )
            )
        if self.currency not in ISO_4217_CODES:
            errors.append(
                FieldError(
                    "STRIPE_CURRENCY",
                    f"is not a currency code ({describe_value(self.currency)})",
                    "use a three-letter ISO 4217 code in capitals, such as USD, EUR or NZD",
                )
            )
        if self.account_id is not None and not _ACCOUNT.fullmatch(self.account_id):
            errors.append(
                FieldError(
                    "STRIPE_ACCOUNT_ID",
                    f"is not an account id ({describe_value(self.account_id)})",
                    "copy the acct_… id from the Dashboard's account settings, or leave it unset",
                )
            )
        for name, value, allowed in (
            ("STRIPE_TIMEOUT", self.timeout, _TIMEOUT),
            ("STRIPE_MAX_RETRY_WAIT", self.max_retry_wait, _MAX_RETRY_WAIT),
            ("AMS_BILLING_RATE_LIMIT_TIME_SCALE", self.rate_limit_time_scale, _TIME_SCALE),
        ):
            problem = allowed.problem(name, value)
            if problem is not None:
                errors.append(problem)
        if self.rate_limit_redis_url is not None and not re.match(
            r"(rediss?|unix)://", self.rate_limit_redis_url
        ):
            errors.append(
                FieldError(
                    "AMS_BILLING_RATE_LIMIT_REDIS_URL",
                    "is not a redis://, rediss:// or unix:// URL",
                    "e.g. redis://localhost:6379/0, or leave it unset to pace each process alone",
                )
            )
        if self.max_attempts < 1:
            errors.append(FieldError("max_attempts", "must be at least 1", "e.g. 4"))
        return errors

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | Environment | None = None) -> StripeSettings:
        """Read the variables (``os.environ`` by default) and report every problem at once."""
        reader = EnvReader(Environment.of(environ))
        del environ  # error reporters record frame locals: keep only the masked copy
        values: dict[str, Any] = {
            "secret_key": Secret(
                reader.text("STRIPE_SECRET_KEY", required=True, fix=_KEY_FIX) or ""
            ),
            "webhook_secrets": Secret(reader.text("STRIPE_WEBHOOK_SECRET", fix=_WHSEC_FIX) or ""),
            "api_version": reader.text("STRIPE_API_VERSION") or DEFAULT_API_VERSION,
            "api_base": reader.text("STRIPE_API_BASE") or DEFAULT_API_BASE,
            "currency": reader.text("STRIPE_CURRENCY") or "USD",
            "account_id": reader.text("STRIPE_ACCOUNT_ID"),
            "timeout": reader.number("STRIPE_TIMEOUT", 30.0, _TIMEOUT),
            "max_retry_wait": reader.number("STRIPE_MAX_RETRY_WAIT", 60.0, _MAX_RETRY_WAIT),
            "rate_limit_redis_url": reader.text("AMS_BILLING_RATE_LIMIT_REDIS_URL"),
            "rate_limit_time_scale": reader.number(
                "AMS_BILLING_RATE_LIMIT_TIME_SCALE", 1.0, _TIME_SCALE
            ),
        }
        errors = list(reader.errors)
        reported = {error.field for error in errors}
        try:
            settings = cls(**values)
        except ConfigurationError as error:
            errors.extend(e for e in error.errors if e.field not in reported)
        if errors:
            raise ConfigurationError(f"{_WHAT} is not configured correctly:", errors)
        return settings

    def invoice_defaults(self) -> InvoiceDefaults:
        """What a request leaves unset gets: no tax (Stripe computes none here), no account."""
        return InvoiceDefaults(amount_type=AmountType.NO_TAX, currency=self.currency)
