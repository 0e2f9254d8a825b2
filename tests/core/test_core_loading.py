from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from stevedore import ExtensionManager

from ams_billing import (
    BillingService,
    ConfigurationError,
    ProviderNotFoundError,
    available_providers,
    load_service,
    resolve_provider_class,
)
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing.fake import FakeDriver


def test_fake_is_registered_as_an_entry_point() -> None:
    assert available_providers()["fake"] == "ams_billing.providers.fake:FakeProvider"


@pytest.mark.parametrize(
    "value",
    [
        "fake",
        " fake ",
        "ams_billing.providers.fake.FakeProvider",
        "ams_billing.providers.fake:FakeProvider",
    ],
)
def test_a_provider_resolves_by_name_or_by_path(value: str) -> None:
    assert resolve_provider_class(value) is FakeProvider


def test_load_service_reads_the_environment() -> None:
    service = load_service(environ={"AMS_BILLING_SERVICE_CLASS": "fake"}, stores="memory:")
    assert isinstance(service, BillingService)
    assert isinstance(service.provider, FakeProvider)


def test_load_service_uses_from_env_with_the_same_environment() -> None:
    service = load_service(
        environ={"AMS_BILLING_SERVICE_CLASS": "fake", "AMS_BILLING_FAKE_WEBHOOK_KEY": "k" * 32},
        stores="memory:",
    )
    signed = FakeDriver(service.provider).sign_delivery(b"{}")  # type: ignore[attr-defined]
    reference = FakeDriver(FakeProvider(webhook_key="k" * 32)).sign_delivery(b"{}")
    assert signed.headers == reference.headers


def test_provider_kwargs_go_to_the_constructor() -> None:
    service = load_service("fake", environ={}, stores="memory:", tenant_id="t-9")
    assert service.provider.tenant_id == "t-9"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("quickbooks", "no provider is installed under that name"),
        ("nowhere.module.Provider", "cannot be imported"),
        ("ams_billing.providers.fake.Missing", "has no attribute 'Missing'"),
        ("ams_billing.providers.fake.SIGNATURE_HEADER", "not a class"),
        ("ams_billing.", "not a module and class path"),
    ],
)
def test_a_wrong_value_raises_one_error_listing_what_is_installed(value: str, reason: str) -> None:
    with pytest.raises(ProviderNotFoundError) as excinfo:
        load_service(value, environ={})
    message = str(excinfo.value)
    assert reason in message
    assert "fake" in excinfo.value.available
    # The value was passed to load_service(), so that is what to fix, not a variable.
    assert "Set load_service()'s value to an installed provider name" in message
    assert "AMS_BILLING_SERVICE_CLASS" not in message


def test_a_wrong_variable_is_named_as_the_fix() -> None:
    with pytest.raises(ProviderNotFoundError) as excinfo:
        load_service(environ={"AMS_BILLING_SERVICE_CLASS": "quickbooks"})
    assert "Set AMS_BILLING_SERVICE_CLASS to an installed provider name" in str(excinfo.value)
    assert excinfo.value.setting == "AMS_BILLING_SERVICE_CLASS"


def test_the_fix_names_where_the_value_was_given() -> None:
    with pytest.raises(ProviderNotFoundError) as excinfo:
        resolve_provider_class("nowhere.module.Provider", setting="--provider")
    error = excinfo.value
    assert (error.setting, error.value) == ("--provider", "nowhere.module.Provider")
    assert "Set --provider to an installed provider name" in str(error)
    assert "AMS_BILLING_SERVICE_CLASS" not in str(error)
    assert isinstance(error.__cause__, ModuleNotFoundError)


def test_every_bad_variable_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        load_service(
            environ={
                "AMS_BILLING_EMAIL_WHITELIST_REGEX": "([unclosed",
                "AMS_BILLING_EMAIL_INVOICES": "perhaps",
            }
        )
    fields = [error.field for error in excinfo.value.errors]
    assert fields == [
        "AMS_BILLING_SERVICE_CLASS",
        "AMS_BILLING_EMAIL_WHITELIST_REGEX",
        "AMS_BILLING_EMAIL_INVOICES",
    ]
    assert all(error.fix for error in excinfo.value.errors)


def test_a_provider_whose_entry_point_fails_to_import_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_provider.py").write_text("raise ImportError('missing dependency: zeep')\n")
    dist = tmp_path / "broken_provider-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-provider\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent(
            """
            [ams_billing.providers]
            broken = broken_provider:Provider
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    # stevedore caches each group's entry points per process; a provider installed while the
    # process runs is a test-only situation, so drop the cache here rather than in the loader.
    monkeypatch.setattr(ExtensionManager, "ENTRY_POINT_CACHE", {})
    assert "broken" in available_providers()
    with pytest.raises(ProviderNotFoundError) as excinfo:
        resolve_provider_class("broken")
    assert "failed to import" in str(excinfo.value)
    assert "zeep" in str(excinfo.value)


def test_provider_and_service_problems_are_reported_together() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        load_service(
            environ={
                "AMS_BILLING_SERVICE_CLASS": "xero",
                "AMS_BILLING_EMAIL_WHITELIST_REGEX": "([unclosed",
                "XERO_AMOUNT_TYPE": "GROSS",
                "XERO_EMAIL_INVOICES": "sometimes",
            }
        )
    fields = [error.field for error in excinfo.value.errors]
    assert fields.count("AMS_BILLING_EMAIL_WHITELIST_REGEX") == 1
    for name in ("XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "XERO_WEBHOOK_KEY", "XERO_AMOUNT_TYPE",
                 "XERO_EMAIL_INVOICES", "XERO_ACCOUNT_CODE", "XERO_CURRENCY_CODE"):  # fmt: skip
        assert name in fields


def test_provider_kwargs_reach_from_env_with_the_given_environment() -> None:
    service = load_service(
        environ={"AMS_BILLING_SERVICE_CLASS": "fake", "AMS_BILLING_FAKE_WEBHOOK_KEY": "k" * 32},
        stores="memory:",
        tenant_id="t-2",
    )
    assert service.provider.tenant_id == "t-2"  # type: ignore[attr-defined]
    reference = FakeDriver(FakeProvider(webhook_key="k" * 32)).sign_delivery(b"{}")
    assert FakeDriver(service.provider).sign_delivery(b"{}").headers == reference.headers  # type: ignore[attr-defined]


GUIDE_PATH = "ams.billing.providers.xero.XeroBillingService"


def test_the_guides_class_path_is_the_xero_provider_where_the_ams_is_absent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from ams_billing.assembly import loading
    from ams_billing.providers.xero import XeroProvider

    loading._aliases_logged.clear()
    with caplog.at_level("INFO", logger="ams_billing"):
        assert resolve_provider_class(GUIDE_PATH) is XeroProvider
        assert resolve_provider_class(GUIDE_PATH) is XeroProvider
    said = [r.getMessage() for r in caplog.records if GUIDE_PATH in r.getMessage()]
    assert len(said) == 1, said
    assert "'xero'" in said[0]


def test_only_the_guides_exact_path_is_aliased() -> None:
    with pytest.raises(ProviderNotFoundError, match="cannot be imported"):
        resolve_provider_class("ams.billing.providers.xero.SomethingElse")


def _write_module(root: Path, dotted: str, source: str) -> None:
    *packages, module = dotted.split(".")
    folder = root
    for package in packages:
        folder = folder / package
        folder.mkdir(exist_ok=True)
        (folder / "__init__.py").touch()
    (folder / f"{module}.py").write_text(textwrap.dedent(source))


def test_inside_the_ams_the_guides_path_runs_on_the_provider_its_class_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the AMS's migration its module re-exports an integration naming its provider."""
    import sys

    from ams_billing.providers.xero import XeroProvider

    _write_module(
        tmp_path,
        "ams.billing.providers.xero",
        """
        class XeroBillingService:
            ams_billing_provider = "xero"
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "ams" or m.startswith("ams.")]:
        monkeypatch.delitem(sys.modules, name)
    try:
        assert resolve_provider_class(GUIDE_PATH) is XeroProvider
    finally:
        for name in [m for m in sys.modules if m == "ams" or m.startswith("ams.")]:
            del sys.modules[name]


def test_a_missing_dependency_of_the_ams_module_is_not_mistaken_for_its_absence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    _write_module(tmp_path, "ams.billing.providers.xero", "import xero_python_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(ProviderNotFoundError, match="xero_python_not_installed"):
            resolve_provider_class(GUIDE_PATH)
    finally:
        for name in [m for m in sys.modules if m == "ams" or m.startswith("ams.")]:
            del sys.modules[name]


def test_the_log_says_where_billing_state_lives_and_warns_for_many_processes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from ams_billing import InMemoryInvoiceStateStore

    class OwnStore(InMemoryInvoiceStateStore):
        def __repr__(self) -> str:
            return "<the AMS's invoice table>"

    memory = {"AMS_BILLING_SERVICE_CLASS": "fake", "AMS_BILLING_DATABASE_URL": "memory:"}
    with caplog.at_level("INFO", logger="ams_billing"):
        load_service(environ=memory)
        load_service(environ={**memory, "WEB_CONCURRENCY": "4"})
        load_service(environ={"AMS_BILLING_SERVICE_CLASS": "fake"}, stores="memory:")
        load_service(environ=memory, state_store=OwnStore())
    said = [
        (r.levelname, r.getMessage()) for r in caplog.records if "billing state" in r.getMessage()
    ]
    assert said[0] == (
        "INFO",
        "billing state: idempotency ledger, invoice states and webhook inbox in memory "
        "(lost on restart)",
    )
    assert said[1][0] == "WARNING"
    assert "4 processes are declared" in said[1][1]
    assert said[2] == said[0]
    assert said[3][0] == "INFO"
    assert "invoice states in <the AMS's invoice table>" in said[3][1]
    assert "idempotency ledger and webhook inbox in memory (lost on restart)" in said[3][1]
