"""The two settings of the shared budget, and which budget a provider gets."""

from __future__ import annotations

import pytest

from ams_billing import ConfigurationError
from ams_billing.providers.xero import XeroProvider
from ams_billing.providers.xero.budget import LocalBudget, RedisBudget
from ams_billing.providers.xero.settings import XeroSettings

ENV = {
    "XERO_CLIENT_ID": "client",
    "XERO_CLIENT_SECRET": "secret",
    "XERO_WEBHOOK_KEY": "key",
    "XERO_ACCOUNT_CODE": "200",
    "XERO_CURRENCY_CODE": "NZD",
    "XERO_AMOUNT_TYPE": "EXCLUSIVE",
}


def test_the_defaults_keep_the_budget_in_memory() -> None:
    settings = XeroSettings.from_env(ENV)
    assert settings.rate_limit_redis_url is None
    assert settings.rate_limit_time_scale == 1.0
    with XeroProvider(settings) as service:
        assert isinstance(service.http.pacer.budget, LocalBudget)


def test_a_redis_url_shares_the_budget(redis_url: str) -> None:
    settings = XeroSettings.from_env(
        {**ENV, "AMS_BILLING_RATE_LIMIT_REDIS_URL": redis_url, "XERO_API_URL": "http://127.0.0.1:9"}
    )
    assert settings.rate_limit_redis_url == redis_url
    with XeroProvider(settings) as service:
        assert isinstance(service.http.pacer.budget, RedisBudget)


def test_the_redis_url_stays_out_of_repr() -> None:
    url = "redis://:hunter2@cache.internal:6379/0"
    settings = XeroSettings.from_env({**ENV, "AMS_BILLING_RATE_LIMIT_REDIS_URL": url})
    assert "hunter2" not in repr(settings)


def test_bad_values_are_named_by_their_variables() -> None:
    with pytest.raises(ConfigurationError) as raised:
        XeroSettings.from_env(
            {
                **ENV,
                "AMS_BILLING_RATE_LIMIT_REDIS_URL": "localhost:6379",
                "AMS_BILLING_RATE_LIMIT_TIME_SCALE": "0",
            }
        )
    fields = {error.field for error in raised.value.errors}
    assert fields == {"AMS_BILLING_RATE_LIMIT_REDIS_URL", "AMS_BILLING_RATE_LIMIT_TIME_SCALE"}
