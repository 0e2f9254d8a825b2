"""Configuration of the emulated organisation, connection, limits and webhook behaviour.

Defaults make a ready-to-use NZ organisation (base currency NZD) with clearly fake credentials.
Choices where Xero's behaviour is unconfirmed (marked [U] in ``xero-api.md``) are configurable
here when that is cheap: the idempotency retention, the email limits, whether emailing sets
``SentToContact``, and the rate limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

__all__ = [
    "BROAD_SCOPES",
    "GRANULAR_SCOPES",
    "AccountSpec",
    "EmulatorConfig",
    "RateLimits",
    "TaxRateSpec",
    "WebhookBehaviour",
]

#: The scopes an operator ticks for a custom connection created before 29 April 2026.
BROAD_SCOPES = ("accounting.contacts", "accounting.transactions", "accounting.settings.read")
#: The scopes of a custom connection created from 29 April 2026.
GRANULAR_SCOPES = (
    "accounting.contacts",
    "accounting.invoices",
    "accounting.payments",
    "accounting.settings.read",
)


@attrs.frozen
class RateLimits:
    """Xero's per-tenant and per-app call limits (https://developer.xero.com/faq/limits).

    Set a limit to ``None`` to disable just that limit.
    """

    concurrent: int | None = 5
    per_minute: int | None = 60
    per_day: int | None = 5000
    app_per_minute: int | None = 10_000


@attrs.frozen
class AccountSpec:
    """One account of the chart of accounts."""

    code: str
    name: str
    type: str
    tax_type: str = "NONE"
    status: str = "ACTIVE"
    enable_payments: bool = False
    bank_account_number: str | None = None
    system_account: str | None = None


@attrs.frozen
class TaxRateSpec:
    """One tax rate; ``rate`` is a percentage, e.g. ``Decimal("15")``."""

    tax_type: str
    name: str
    rate: Decimal


@attrs.frozen
class WebhookBehaviour:
    """How webhook deliveries misbehave, for testing receivers (all seeded).

    ``duplicate``/``drop`` are probabilities per payload; ``reorder`` shuffles the payloads of
    one :meth:`~ams_billing.emulators.xero.XeroEmulator.deliver_webhooks` run.
    """

    duplicate: float = 0.0
    drop: float = 0.0
    reorder: bool = False
    batch_size: int = 10
    retry_after: float = 60.0
    disable_after: float = 24 * 3600.0
    timeout: float = 5.0


DEFAULT_ACCOUNTS = (
    AccountSpec(
        "090",
        "Business Bank Account",
        "BANK",
        enable_payments=True,
        bank_account_number="0200-0000-0000000-00",
    ),
    AccountSpec("200", "Sales", "REVENUE", tax_type="OUTPUT2"),
    AccountSpec("205", "Old Sales (archived)", "REVENUE", tax_type="OUTPUT2", status="ARCHIVED"),
    AccountSpec("260", "Other Revenue", "REVENUE", tax_type="OUTPUT2"),
    AccountSpec("400", "Advertising", "EXPENSE", tax_type="INPUT2"),
    AccountSpec("610", "Accounts Receivable", "CURRENT", system_account="DEBTORS"),
    AccountSpec("860", "Rounding", "CURRLIAB", system_account="ROUNDING"),
    # The spec's PUT /Payments example pays into account 970.
    AccountSpec("970", "Owner A Funds Introduced", "EQUITY", enable_payments=True),
)

DEFAULT_TAX_RATES = (
    TaxRateSpec("OUTPUT2", "15% GST on Income", Decimal("15")),
    TaxRateSpec("INPUT2", "15% GST on Expenses", Decimal("15")),
    TaxRateSpec("NONE", "No GST", Decimal("0")),
    TaxRateSpec("EXEMPTOUTPUT", "Zero Rated", Decimal("0")),
)

_CURRENCY_NAMES: Mapping[str, str] = {
    "NZD": "New Zealand Dollar",
    "AUD": "Australian Dollar",
    "USD": "United States Dollar",
    "GBP": "British Pound",
    "EUR": "Euro",
}


def currency_description(code: str) -> str:
    """Return the English name Xero shows for a currency code."""
    return _CURRENCY_NAMES.get(code, code)


@attrs.frozen
class EmulatorConfig:
    """Everything that defines one emulated Xero app + custom connection + organisation."""

    client_id: str = "EMULATORCLIENTID0000000000000000"
    client_secret: str = attrs.field(default="emulator-client-secret-NOT-A-SECRET", repr=False)
    tenant_id: str = "e1e1e1e1-0000-4000-8000-00000000e4e0"
    webhook_key: str = attrs.field(default="emulator-webhook-key-NOT-A-SECRET", repr=False)
    scopes: tuple[str, ...] = BROAD_SCOPES
    seed: int = 0
    is_demo_company: bool = False
    organisation_name: str = "Emulated Association (NZ)"
    country_code: str = "NZ"
    base_currency: str = "NZD"
    currencies: tuple[str, ...] = ("NZD",)
    timezone: str = "NEWZEALANDSTANDARDTIME"
    accounts: tuple[AccountSpec, ...] = DEFAULT_ACCOUNTS
    tax_rates: tuple[TaxRateSpec, ...] = DEFAULT_TAX_RATES
    provider_name: str = "AMS Billing (emulated)"
    app_name: str = "ams-billing"
    token_lifetime: int = 1800
    rate_limits: bool | RateLimits = True
    idempotency_retention: float = 360.0
    idempotency_key_max_length: int = 128
    email_daily_limit: int = 1000
    email_daily_limit_demo: int = 0
    email_sets_sent_to_contact: bool = True
    online_invoice_base_url: str = "https://in.xero.com"
    resource_base_url: str = "https://api.xero.com/api.xro/2.0"
    invoice_number_prefix: str = "INV-"
    max_page_size: int = 1000
    default_page_size: int = 100
    webhooks: WebhookBehaviour = WebhookBehaviour()

    @property
    def limits(self) -> RateLimits | None:
        """The effective rate limits, or ``None`` when they are switched off."""
        if self.rate_limits is True:
            return RateLimits()
        if self.rate_limits is False:
            return None
        return self.rate_limits
