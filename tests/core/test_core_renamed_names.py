"""Renamed names keep their old spelling for a while, with a DeprecationWarning naming the new one.

Issue 18 gave each thing one name: the providers are ``XeroProvider`` and ``FakeProvider``
(``BillingService`` is the facade), the emulator's classes no longer share names with core's,
and only the ledger's digest is called ``fingerprint``. A user holding an old name, in code or
in ``AMS_BILLING_SERVICE_CLASS``, keeps working: the same object, a warning that says what to
write instead, and for a configured class path a line in the log, once.
"""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys

import pytest

from ams_billing import load_service, resolve_provider_class
from ams_billing.assembly import loading
from ams_billing.cli.sync_state import ids_digest
from ams_billing.emulators.xero import EmulatorConfig, provider_environment
from ams_billing.emulators.xero.idempotency import request_digest
from ams_billing.emulators.xero.messages import EmulatorRequest
from ams_billing.providers.fake import FakeProvider
from ams_billing.providers.xero import XeroProvider

RENAMED = [
    # (module, old name, new name): each old name is served by the module it was defined in
    ("ams_billing.providers.xero", "XeroBillingService", "XeroProvider"),
    ("ams_billing.providers.xero.provider", "XeroBillingService", "XeroProvider"),
    ("ams_billing.providers.fake", "FakeBillingService", "FakeProvider"),
    ("ams_billing.providers.fake.provider", "FakeBillingService", "FakeProvider"),
    ("ams_billing.emulators.xero", "WebhookDelivery", "DeliveryAttempt"),
    ("ams_billing.emulators.xero.webhooks", "WebhookDelivery", "DeliveryAttempt"),
    ("ams_billing.emulators.xero.faults", "FaultInjector", "FaultRuleSet"),
    ("ams_billing.emulators.xero.idempotency", "IdempotencyStore", "ReplayCache"),
    ("ams_billing.emulators.xero.idempotency", "fingerprint", "request_digest"),
    ("ams_billing.cli.sync_state", "fingerprint", "ids_digest"),
]


@pytest.mark.parametrize(("old", "name", "new_name"), RENAMED)
def test_an_old_name_is_the_same_object_with_a_warning_naming_the_new_one(
    old: str, name: str, new_name: str
) -> None:
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} is deprecated") as caught:
        value = getattr(module, name)
    assert value is getattr(module, new_name)
    assert f"it is now called {new_name}: import {new_name} from {old}" in str(caught[0].message)
    assert caught[0].filename == __file__  # it points at the user's line, not at the alias


@pytest.mark.parametrize("old", sorted({old for old, *_ in RENAMED}))
def test_a_name_that_never_existed_is_still_an_attribute_error(old: str) -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        getattr(importlib.import_module(old), "NoSuchName")  # noqa: B009


def test_the_old_provider_names_import_in_a_fresh_interpreter() -> None:
    """The way users wrote it, with the warning shown from their own line."""
    probe = (
        "import warnings; warnings.simplefilter('always')\n"
        "from ams_billing.providers.xero import XeroBillingService\n"
        "from ams_billing.providers.fake.provider import FakeBillingService\n"
        "from ams_billing.providers.xero import XeroProvider\n"
        "from ams_billing.providers.fake import FakeProvider\n"
        "assert XeroBillingService is XeroProvider and FakeBillingService is FakeProvider\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert (
        "<string>:2: DeprecationWarning: ams_billing.providers.xero.XeroBillingService"
        in done.stderr
    )
    assert (
        "<string>:3: DeprecationWarning: ams_billing.providers.fake.provider.FakeBillingService"
        in (done.stderr)
    )


def test_the_new_names_are_what_the_entry_points_name() -> None:
    providers = loading.available_providers()
    assert providers["xero"] == "ams_billing.providers.xero:XeroProvider"
    assert providers["fake"] == "ams_billing.providers.fake:FakeProvider"
    # pytest turns warnings into errors: loading them touches no old name
    assert resolve_provider_class("xero") is XeroProvider
    assert resolve_provider_class("fake") is FakeProvider


OLD_XERO_PATH = "ams_billing.providers.xero.XeroBillingService"


def test_load_service_takes_the_old_class_path_warns_and_logs_it_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    environ = provider_environment(EmulatorConfig(seed=0), "http://127.0.0.1:9")
    environ["AMS_BILLING_SERVICE_CLASS"] = OLD_XERO_PATH
    loading._aliases_logged.clear()
    with caplog.at_level(logging.INFO, logger="ams_billing"):
        for _ in range(2):
            with pytest.warns(DeprecationWarning, match="it is now called XeroProvider") as seen:
                billing = load_service(environ=environ)
            with billing:
                assert type(billing.provider) is XeroProvider
            assert seen[0].filename == __file__  # the warning names the caller's line
    logged = [r for r in caplog.records if OLD_XERO_PATH in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in logged]
    assert logged[0].levelno == logging.WARNING
    assert "deprecated" in logged[0].getMessage()
    assert "use xero (or ams_billing.providers.xero.XeroProvider) instead" in logged[0].getMessage()


@pytest.mark.parametrize(
    ("path", "provider", "instead"),
    [
        ("ams_billing.providers.xero.provider.XeroBillingService", XeroProvider, "xero"),
        ("ams_billing.providers.fake.FakeBillingService", FakeProvider, "fake"),
        ("ams_billing.providers.fake.provider.FakeBillingService", FakeProvider, "fake"),
    ],
)
def test_every_old_provider_class_path_still_resolves(
    path: str, provider: type, instead: str, caplog: pytest.LogCaptureFixture
) -> None:
    loading._aliases_logged.clear()
    with (
        caplog.at_level(logging.WARNING, logger="ams_billing"),
        pytest.warns(DeprecationWarning, match="is deprecated"),
    ):
        assert resolve_provider_class(path) is provider
    assert [r.getMessage() for r in caplog.records if path in r.getMessage()] == [
        f"the provider class path {path} is deprecated (a later release will remove it): "
        f"use {instead} (or {path.rpartition('.')[0]}.{provider.__name__}) instead"
    ]


def test_a_current_class_path_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    loading._aliases_logged.clear()
    with caplog.at_level(logging.INFO, logger="ams_billing"):
        assert resolve_provider_class("ams_billing.providers.xero.XeroProvider") is XeroProvider
    assert not [r for r in caplog.records if "deprecated" in r.getMessage()]


def test_the_renamed_digests_give_what_the_old_fingerprints_gave() -> None:
    """Digests users already hold (sync state files) must still match after the renames.

    The values were computed with the functions as they were before (both called
    ``fingerprint``).
    """
    assert ids_digest(["inv-2", "inv-1", "inv-2"]) == (
        "47494550bffeb4bf947f743fd93de53f873054f72b055a747782d2e799dbba4e"
    )
    request = EmulatorRequest(
        "put", "/api.xro/2.0/Invoices", "summarizeErrors=false", {"a": "b"}, b'{"Invoices":[]}'
    )
    assert request_digest(request) == (
        "b8613573107f70fe383aa269178513e72527ae16cebaa298d49bbd585945d4de"
    )
