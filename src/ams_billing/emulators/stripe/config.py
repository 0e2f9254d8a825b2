"""What an emulated Stripe account looks like: its keys, limits, delays and windows."""

from __future__ import annotations

import attrs

__all__ = ["DEFAULT_API_VERSION", "DEFAULT_SECRET_KEY", "RateLimits", "StripeEmulatorConfig"]

DEFAULT_API_VERSION = "2026-10-28.endive"
"""The account's default API version: the one stripe-python 16.1.0 pins (§1.2)."""

DEFAULT_SECRET_KEY = "sk_test_51EmulatorAmsBillingLocalOnly00000000"  # noqa: S105 - fake
"""The emulated account's secret test key (a fake credential; print it freely)."""


@attrs.frozen
class RateLimits:
    """Stripe's test-mode limits (§7), per second of the emulator's clock.

    ``read``/``write``: the account-wide budgets of GET and of POST/DELETE calls; ``per_endpoint``:
    each named operation (``POST /v1/invoices``); ``search``: the search endpoints. ``None``
    switches one limit off.
    """

    read: int | None = 25
    write: int | None = 25
    per_endpoint: int | None = 25
    search: int | None = 20


@attrs.frozen
class StripeEmulatorConfig:
    """Settings of one emulated Stripe test-mode account."""

    seed: int = 0
    secret_keys: tuple[str, ...] = (DEFAULT_SECRET_KEY,)
    """The API keys the account accepts (``sk_test_…`` or ``rk_test_…``)."""
    api_version: str = DEFAULT_API_VERSION
    account_country: str = "US"
    account_name: str = "AMS Billing Emulator"
    default_currency: str = "usd"
    rate_limits: RateLimits | None = attrs.field(factory=RateLimits)
    search_indexing_delay: float = 2.0
    """Seconds before a created or changed customer shows in search results (§1.6)."""
    idempotency_window: float = 24 * 3600.0
    """Seconds an ``Idempotency-Key`` is remembered (§5: at least 24 hours)."""
    event_retention: float = 30 * 86400.0
    """Seconds events stay listable and retrievable (§8.3: 30 days)."""
    webhook_timeout: float = 10.0
    """Seconds a webhook delivery may take before it counts as failed."""
    hosted_base: str = "https://emulator.invalid"
    """Where hosted invoice pages live; a served emulator uses its own base URL."""

    @property
    def secret_key(self) -> str:
        """The first accepted key (what ``ams-billing emulator`` prints)."""
        return self.secret_keys[0]
