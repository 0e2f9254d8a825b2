"""XeroSettings: the setup guide's variables, every problem reported at once, secrets hidden."""

from __future__ import annotations

import pytest

from ams_billing import AmountType, ConfigurationError, load_service
from ams_billing.providers.xero import XeroProvider, XeroSettings

TENANT = "e1e1e1e1-0000-4000-8000-00000000e4e0"

GUIDE = {
    "AMS_BILLING_SERVICE_CLASS": "ams.billing.providers.xero.XeroBillingService",
    "XERO_CLIENT_ID": "CLIENTID",
    "XERO_CLIENT_SECRET": "s3cr3t-client-secret",
    "XERO_TENANT_ID": TENANT,
    "XERO_WEBHOOK_KEY": "w3bh00k-key",
    "XERO_ACCOUNT_CODE": "200",
    "XERO_AMOUNT_TYPE": "INCLUSIVE",
    "XERO_CURRENCY_CODE": "NZD",
}


def test_the_guides_variables_configure_the_provider() -> None:
    settings = XeroSettings.from_env(GUIDE)
    assert settings.client_id == "CLIENTID"
    assert settings.client_secret.reveal() == "s3cr3t-client-secret"
    assert settings.webhook_key.reveal() == "w3bh00k-key"
    assert settings.tenant_id == TENANT
    assert (settings.account_code, settings.currency_code) == ("200", "NZD")
    assert settings.amount_type is AmountType.INCLUSIVE
    assert settings.email_invoices is True
    assert settings.email_whitelist is None
    assert settings.api_base == "https://api.xero.com/api.xro/2.0"
    assert settings.token_url == "https://identity.xero.com/connect/token"
    assert settings.scopes == ()


def test_optional_variables_and_developer_overrides() -> None:
    env = GUIDE | {
        "XERO_EMAIL_INVOICES": "False",
        "AMS_BILLING_EMAIL_WHITELIST_REGEX": r"@example\.org$",
        "XERO_API_URL": "http://127.0.0.1:8000",
        "XERO_IDENTITY_URL": "http://127.0.0.1:8000/",
        "XERO_SCOPES": "accounting.contacts accounting.invoices",
        "XERO_TIMEOUT": "12.5",
        "XERO_MAX_RETRY_WAIT": "5",
        "XERO_AMOUNT_TYPE": "exclusive",
    }
    settings = XeroSettings.from_env(env)
    assert settings.email_invoices is False
    assert settings.email_whitelist == r"@example\.org$"
    assert settings.api_base == "http://127.0.0.1:8000/api.xro/2.0"
    assert settings.token_url == "http://127.0.0.1:8000/connect/token"
    assert settings.scopes == ("accounting.contacts", "accounting.invoices")
    assert (settings.timeout, settings.max_retry_wait) == (12.5, 5.0)
    assert settings.amount_type is AmountType.EXCLUSIVE


def test_an_empty_tenant_id_is_fine_for_a_custom_connection_but_a_blank_one_is_reported() -> None:
    assert XeroSettings.from_env(GUIDE | {"XERO_TENANT_ID": ""}).tenant_id is None
    with pytest.raises(ConfigurationError, match="XERO_TENANT_ID: is blank"):
        XeroSettings.from_env(GUIDE | {"XERO_TENANT_ID": "  "})


def test_every_problem_is_reported_at_once_with_its_variable_and_fix() -> None:
    env = {
        "XERO_CLIENT_ID": "CLIENTID",
        "XERO_TENANT_ID": "not-a-tenant",
        "XERO_ACCOUNT_CODE": "200",
        "XERO_AMOUNT_TYPE": "GROSS",
        "XERO_CURRENCY_CODE": "nzd",
        "XERO_EMAIL_INVOICES": "perhaps",
        "AMS_BILLING_EMAIL_WHITELIST_REGEX": "[unclosed",
    }
    with pytest.raises(ConfigurationError) as raised:
        XeroSettings.from_env(env)
    by_field = {error.field: error for error in raised.value.errors}
    assert set(by_field) == {
        "XERO_CLIENT_SECRET",
        "XERO_WEBHOOK_KEY",
        "XERO_TENANT_ID",
        "XERO_AMOUNT_TYPE",
        "XERO_CURRENCY_CODE",
        "XERO_EMAIL_INVOICES",
        "AMS_BILLING_EMAIL_WHITELIST_REGEX",
    }
    assert all(error.fix for error in raised.value.errors)
    assert "INCLUSIVE" in str(by_field["XERO_AMOUNT_TYPE"])
    assert "Connection management" in str(by_field["XERO_TENANT_ID"])
    assert "ISO 4217" in str(by_field["XERO_CURRENCY_CODE"])
    message = str(raised.value)
    assert all(name in message for name in by_field)


def test_nothing_set_names_every_required_variable() -> None:
    with pytest.raises(ConfigurationError) as raised:
        XeroSettings.from_env({})
    assert [error.field for error in raised.value.errors] == [
        "XERO_CLIENT_ID",
        "XERO_CLIENT_SECRET",
        "XERO_WEBHOOK_KEY",
        "XERO_ACCOUNT_CODE",
        "XERO_CURRENCY_CODE",
        "XERO_AMOUNT_TYPE",
    ]


def test_explicit_settings_are_validated_the_same_way() -> None:
    with pytest.raises(ConfigurationError) as raised:
        XeroSettings(
            client_id="x",
            client_secret="y",
            webhook_key="z",
            account_code="200",
            currency_code="NZ",
            amount_type="SIDEWAYS",  # type: ignore[arg-type]
        )
    assert {e.field for e in raised.value.errors} == {"XERO_CURRENCY_CODE", "XERO_AMOUNT_TYPE"}


def test_secrets_stay_out_of_repr_and_str() -> None:
    settings = XeroSettings.from_env(GUIDE)
    for text in (
        repr(settings),
        str(settings),
        f"{settings.client_secret}",
        repr(settings.webhook_key),
    ):
        assert "s3cr3t-client-secret" not in text
        assert "w3bh00k-key" not in text


def test_load_service_builds_the_provider_from_the_same_environment() -> None:
    service = load_service(
        environ=GUIDE | {"AMS_BILLING_EMAIL_WHITELIST_REGEX": "@x\\.org$"}, stores="memory:"
    )
    try:
        provider = service.provider
        assert isinstance(provider, XeroProvider)
        assert provider.settings.tenant_id == TENANT
        assert "policy:email-whitelist" in dict(service.plugin_manager.list_name_plugin())
    finally:
        provider.close()


def test_the_entry_point_name_selects_the_provider_too() -> None:
    service = load_service("xero", environ=GUIDE, stores="memory:")
    try:
        assert isinstance(service.provider, XeroProvider)
    finally:
        service.provider.close()


def test_constructing_with_no_arguments_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in GUIDE.items():
        monkeypatch.setenv(name, value)
    with XeroProvider() as provider:
        assert provider.settings.client_id == "CLIENTID"
    monkeypatch.delenv("XERO_CLIENT_SECRET")
    with pytest.raises(ConfigurationError, match="XERO_CLIENT_SECRET"):
        XeroProvider()


def test_settings_fields_can_be_passed_as_keywords() -> None:
    with XeroProvider(
        client_id="id",
        client_secret="secret",
        webhook_key="key",
        account_code="200",
        currency_code="AUD",
    ) as provider:
        assert provider.settings.currency_code == "AUD"
        assert provider.settings.amount_type is AmountType.EXCLUSIVE
