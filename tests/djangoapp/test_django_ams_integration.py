"""ams_billing.contrib.ams outside the AMS: it imports, builds, and resolves to its provider.

Its behaviour inside the AMS (rows, signals, webhooks, commands) is proven against the AMS
itself by ``nox -s ams`` (tests/in_ams).
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from ams_billing import ConfigurationError, ProviderNotFoundError, resolve_provider_class
from ams_billing.contrib.ams import MockXeroBillingService, XeroBillingService
from ams_billing.contrib.django.service import get_billing_service, settings_environ
from ams_billing.providers.fake import FakeProvider
from ams_billing.providers.xero import XeroProvider


def test_building_the_ams_service_needs_no_configuration_and_calls_nothing() -> None:
    with override_settings(XERO_TENANT_ID="not-a-uuid"):
        service = XeroBillingService()  # the AMS builds one per call, even in tests
        assert repr(service) == "XeroBillingService(provider='xero')"
        with pytest.raises(ConfigurationError, match="XERO_TENANT_ID"):
            _ = service.billing  # the first operation reports the problem


@pytest.mark.parametrize(
    ("path", "provider"),
    [
        ("ams_billing.contrib.ams.XeroBillingService", XeroProvider),
        ("ams_billing.contrib.ams.MockXeroBillingService", FakeProvider),
    ],
)
def test_the_integration_classes_resolve_to_their_providers(path: str, provider: type) -> None:
    assert resolve_provider_class(path) is provider


def test_the_mock_runs_on_the_process_wide_fake() -> None:
    assert MockXeroBillingService().billing is get_billing_service("fake")
    assert isinstance(get_billing_service("fake").provider, FakeProvider)


@pytest.mark.parametrize(
    ("django_settings", "variable", "named"),
    [
        (
            {"AMS_BILLING_SERVICE_CLASS": "nosuch"},
            None,
            "the Django setting AMS_BILLING_SERVICE_CLASS",
        ),
        ({"AMS_BILLING_SERVICE_CLASS": None}, "nosuch", "Set AMS_BILLING_SERVICE_CLASS to"),
        (
            {"AMS_BILLING_SERVICE_CLASS": None, "BILLING_SERVICE_CLASS": "nosuch"},
            None,
            "the Django setting BILLING_SERVICE_CLASS",
        ),
    ],
    ids=["our-setting", "variable", "the-ams-setting"],
)
def test_a_wrong_provider_names_where_it_was_configured(
    monkeypatch: pytest.MonkeyPatch,
    django_settings: dict[str, str | None],
    variable: str | None,
    named: str,
) -> None:
    if variable is None:
        monkeypatch.delenv("AMS_BILLING_SERVICE_CLASS", raising=False)
    else:
        monkeypatch.setenv("AMS_BILLING_SERVICE_CLASS", variable)
    with override_settings(**django_settings), pytest.raises(ProviderNotFoundError) as raised:
        get_billing_service()
    assert named in str(raised.value)


@override_settings(
    AMS_BILLING_SERVICE_CLASS=None,
    BILLING_SERVICE_CLASS="ams_billing.contrib.ams.MockXeroBillingService",
    BILLING_EMAIL_WHITELIST_REGEX=r"@example\.org$",
)
def test_the_ams_setting_names_are_read_when_ours_are_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AMS_BILLING_SERVICE_CLASS", raising=False)
    monkeypatch.delenv("AMS_BILLING_EMAIL_WHITELIST_REGEX", raising=False)
    environ = settings_environ()
    assert environ["AMS_BILLING_SERVICE_CLASS"] == "ams_billing.contrib.ams.MockXeroBillingService"
    assert environ["AMS_BILLING_EMAIL_WHITELIST_REGEX"] == r"@example\.org$"
    service = get_billing_service()
    assert service is get_billing_service("fake")  # one service per provider, however named
