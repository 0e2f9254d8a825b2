"""``XeroSettings``: the operators' ``XERO_*`` variables, validated all at once.

The variable names and their meaning are the setup guide's (``xero-billing-setup-guide``):

=================================== ========== ==============================================
Variable                            Required   Meaning
=================================== ========== ==============================================
``XERO_CLIENT_ID``                  yes        the custom connection's client id
``XERO_CLIENT_SECRET``              yes        its client secret (shown once in the portal)
``XERO_TENANT_ID``                  no         the organisation; empty is fine for a custom
                                               connection, but a set value must be a UUID
                                               (only white space is reported as blank)
``XERO_WEBHOOK_KEY``                yes        the key webhook deliveries are signed with
``XERO_ACCOUNT_CODE``               yes        the revenue account of lines whose request
                                               names none (the default for requests)
``XERO_AMOUNT_TYPE``                yes        ``INCLUSIVE`` or ``EXCLUSIVE`` (of tax): the
                                               amount type of requests that name none
``XERO_CURRENCY_CODE``              yes        e.g. ``NZD``: the organisation's billing
                                               currency (requests name their own)
``XERO_EMAIL_INVOICES``             no         ``True`` (default) or ``False`` (Demo Company)
``AMS_BILLING_EMAIL_WHITELIST_REGEX`` no       only matching recipients are emailed
=================================== ========== ==============================================

and, for developers and the emulator, ``XERO_API_URL`` (default ``https://api.xero.com``),
``XERO_IDENTITY_URL`` (default ``https://identity.xero.com``), ``XERO_SCOPES`` (space-separated
scopes to ask the token for; default none, which grants every scope the connection has),
``XERO_TIMEOUT`` (seconds per request, default 30, more than 0 and at most 600) and
``XERO_MAX_RETRY_WAIT`` (the longest ``Retry-After`` worth sleeping through, default 60 seconds,
0 to 86,400; longer waits raise :class:`~ams_billing.core.errors.RateLimitedError` at once).

``AMS_BILLING_RATE_LIMIT_REDIS_URL`` (e.g. ``redis://localhost:6379/0``) shares the tenant's
rate-limit budget between every process through Redis (needs ``ams-billing[redis]``); unset, each
process paces only its own calls. ``AMS_BILLING_RATE_LIMIT_TIME_SCALE`` (default 1, 0.01 to
100,000) is for tests and benchmarks against an emulator whose clock runs that many times faster
than real time. Numbers must be finite: ``inf`` and ``nan`` are refused like any bad value.

Secrets (the client secret and the webhook key) are held in :class:`Secret`, which never shows
its value in ``repr`` or ``str``. Errors describe a bad value by its length, never quote it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any, cast

import attrs

from ams_billing.core.env import Environment, EnvReader, NumberRange
from ams_billing.core.errors import ConfigurationError, FieldError, describe_value
from ams_billing.core.models import AmountType, InvoiceDefaults
from ams_billing.core.secret import Secret

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_IDENTITY_URL",
    "Secret",
    "XeroSettings",
    "default_invoice_fields",
]

DEFAULT_API_URL = "https://api.xero.com"
"""Where the Accounting API lives (the provider appends ``/api.xro/2.0``)."""

DEFAULT_IDENTITY_URL = "https://identity.xero.com"
"""Where tokens are minted (the provider appends ``/connect/token``)."""

_AMOUNT_TYPES = ("INCLUSIVE", "EXCLUSIVE")
_CURRENCY = re.compile(r"[A-Z]{3}")
_WHAT = "the Xero billing provider"
_TENANT_FIX = (
    "copy the Tenant ID (a UUID) from Connection management in the developer portal, or "
    "leave it empty: a custom connection reaches only its organisation"
)
_TIMEOUT = NumberRange(0, 600, "give seconds per request, e.g. 30", low_open=True)
_MAX_RETRY_WAIT = NumberRange(0, 86_400, "give seconds, at most a day, e.g. 60")
_TIME_SCALE = NumberRange(
    0.01, 100_000, "leave it unset (1): only tests and benchmarks against an emulator change it"
)


def _secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


def _amount_type(value: AmountType | str) -> AmountType:
    if isinstance(value, str) and value.strip().upper() in AmountType.__members__:
        return AmountType[value.strip().upper()]
    return cast(AmountType, value)  # anything else is reported by problems()


def _scopes(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(value.split()) if isinstance(value, str) else tuple(value)


@attrs.frozen
class XeroSettings:
    """Everything the Xero provider needs; build with :meth:`from_env` or explicitly.

    Building one validates every field and raises one
    :class:`~ams_billing.core.errors.ConfigurationError` listing each problem, named by its
    environment variable with the fix.
    """

    client_id: str
    client_secret: Secret = attrs.field(converter=_secret)
    webhook_key: Secret = attrs.field(converter=_secret)
    account_code: str
    currency_code: str
    amount_type: AmountType = attrs.field(default=AmountType.EXCLUSIVE, converter=_amount_type)
    tenant_id: str | None = None
    email_invoices: bool = True
    email_whitelist: str | None = None
    api_url: str = DEFAULT_API_URL
    identity_url: str = DEFAULT_IDENTITY_URL
    scopes: tuple[str, ...] = attrs.field(default=(), converter=_scopes)
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
    def api_base(self) -> str:
        """The Accounting API base URL, e.g. ``https://api.xero.com/api.xro/2.0``."""
        return f"{self.api_url.rstrip('/')}/api.xro/2.0"

    @property
    def token_url(self) -> str:
        """The token endpoint, e.g. ``https://identity.xero.com/connect/token``."""
        return f"{self.identity_url.rstrip('/')}/connect/token"

    def problems(self) -> list[FieldError]:
        """Every problem with these values, each named by its environment variable."""
        errors: list[FieldError] = []

        def need(name: str, value: object, what: str) -> bool:
            if isinstance(value, Secret):
                value = value.reveal()
            if not isinstance(value, str) or not value.strip():
                errors.append(FieldError(name, "is not set", f"set it to {what}"))
                return False
            return True

        need("XERO_CLIENT_ID", self.client_id, "the custom connection's client id")
        need(
            "XERO_CLIENT_SECRET",
            self.client_secret,
            "the client secret from the Xero developer portal",
        )
        need("XERO_WEBHOOK_KEY", self.webhook_key, "the webhook key from the Xero developer portal")
        code_set = need(
            "XERO_ACCOUNT_CODE", self.account_code, "a code from your chart of accounts"
        )
        if code_set and len(self.account_code.strip()) > 10:
            errors.append(
                FieldError(
                    "XERO_ACCOUNT_CODE",
                    f"is longer than Xero's 10 characters ({describe_value(self.account_code)})",
                    "copy the Code column of the account, e.g. 200",
                )
            )
        currency_set = need("XERO_CURRENCY_CODE", self.currency_code, "a code such as NZD")
        if currency_set and not _CURRENCY.fullmatch(self.currency_code):
            errors.append(
                FieldError(
                    "XERO_CURRENCY_CODE",
                    f"is not a currency code ({describe_value(self.currency_code)})",
                    "use a three-letter ISO 4217 code in capitals, such as NZD, AUD or USD",
                )
            )
        if not isinstance(cast(object, self.amount_type), AmountType):
            errors.append(
                FieldError(
                    "XERO_AMOUNT_TYPE",
                    f"is not an amount type ({_describe(self.amount_type)})",
                    "use INCLUSIVE or EXCLUSIVE",
                )
            )
        if self.tenant_id is not None and not _is_uuid(self.tenant_id):
            errors.append(
                FieldError(
                    "XERO_TENANT_ID",
                    f"is not a tenant id ({describe_value(self.tenant_id)}, not a UUID)",
                    _TENANT_FIX,
                )
            )
        if self.email_whitelist is not None:
            try:
                re.compile(self.email_whitelist)
            except re.error as error:
                errors.append(
                    FieldError(
                        "AMS_BILLING_EMAIL_WHITELIST_REGEX",
                        "is not a valid regular expression "
                        f"({describe_value(self.email_whitelist)}: {error})",
                        "fix the pattern, e.g. @example\\.org$, or leave it empty",
                    )
                )
        for name, url in (("XERO_API_URL", self.api_url), ("XERO_IDENTITY_URL", self.identity_url)):
            if not re.match(r"https?://[^/\s]+", url or ""):
                errors.append(
                    FieldError(
                        name,
                        f"is not an http(s) URL ({_describe(url)})",
                        "leave it unset for Xero",
                    )
                )
        for name, value, allowed in (
            ("XERO_TIMEOUT", self.timeout, _TIMEOUT),
            ("XERO_MAX_RETRY_WAIT", self.max_retry_wait, _MAX_RETRY_WAIT),
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
    def from_env(cls, environ: Mapping[str, str] | Environment | None = None) -> XeroSettings:
        """Read the variables (``os.environ`` by default) and report every problem at once."""
        reader = EnvReader(Environment.of(environ))
        del environ  # error reporters record frame locals: keep only the masked copy
        values: dict[str, Any] = {
            "client_id": reader.text("XERO_CLIENT_ID", required=True) or "",
            "client_secret": Secret(reader.text("XERO_CLIENT_SECRET", required=True) or ""),
            "webhook_key": Secret(reader.text("XERO_WEBHOOK_KEY", required=True) or ""),
            "account_code": reader.text("XERO_ACCOUNT_CODE", required=True) or "",
            "currency_code": reader.text("XERO_CURRENCY_CODE", required=True) or "",
            "tenant_id": reader.text("XERO_TENANT_ID", fix=_TENANT_FIX),
            "email_invoices": reader.boolean("XERO_EMAIL_INVOICES", default=True),
            "email_whitelist": reader.text("AMS_BILLING_EMAIL_WHITELIST_REGEX"),
            "api_url": reader.text("XERO_API_URL") or DEFAULT_API_URL,
            "identity_url": reader.text("XERO_IDENTITY_URL") or DEFAULT_IDENTITY_URL,
            "scopes": reader.text("XERO_SCOPES") or (),
            "timeout": reader.number("XERO_TIMEOUT", 30.0, _TIMEOUT),
            "max_retry_wait": reader.number("XERO_MAX_RETRY_WAIT", 60.0, _MAX_RETRY_WAIT),
            "rate_limit_redis_url": reader.text("AMS_BILLING_RATE_LIMIT_REDIS_URL"),
            "rate_limit_time_scale": reader.number(
                "AMS_BILLING_RATE_LIMIT_TIME_SCALE", 1.0, _TIME_SCALE
            ),
        }
        amount_type = reader.choice("XERO_AMOUNT_TYPE", _AMOUNT_TYPES, required=True)
        values["amount_type"] = AmountType(amount_type) if amount_type else AmountType.EXCLUSIVE
        errors = list(reader.errors)
        reported = {error.field for error in errors}
        try:
            settings = cls(**values)
        except ConfigurationError as error:
            errors.extend(e for e in error.errors if e.field not in reported)
        if errors:
            raise ConfigurationError(f"{_WHAT} is not configured correctly:", errors)
        return settings


def _describe(value: object) -> str:
    return describe_value(value) if isinstance(value, str) else f"a {type(value).__name__}"


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value.strip()) in (32, 36)


def default_invoice_fields(settings: XeroSettings) -> InvoiceDefaults:
    """What a request leaves unset gets: ``XERO_AMOUNT_TYPE``, ``XERO_ACCOUNT_CODE``.

    ``XERO_CURRENCY_CODE`` is reported as the default currency.
    """
    return InvoiceDefaults(
        amount_type=settings.amount_type,
        currency=settings.currency_code,
        account_code=settings.account_code,
    )
