"""The contract suite against the fake provider: through the base class, and with no code."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from contract_runs import INLINE

from ams_billing import BillingService, Capability
from ams_billing.contracts import ContractHarness, ProviderContract
from ams_billing.contracts.base import (
    FaultContract,
    KeyExpiryContract,
    RestartContract,
    WebhookContract,
    WebhookSecrecyContract,
)
from ams_billing.contracts.capabilities import PROBES
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing.fake import FakeDriver, restartable_harness

pytest_plugins = ["pytester"]

HERE = Path(__file__).parent

CLASSES = (
    "TestBulk",
    "TestCapabilities",
    "TestContacts",
    "TestEmail",
    "TestFaults",
    "TestInvoices",
    "TestKeyExpiry",
    "TestLoading",
    "TestPayments",
    "TestReads",
    "TestRestart",
    "TestStateful",
    "TestWebhooks",
    "TestWebhookSecrecy",
)
"""The zero-code run's test classes, all in its one test module, contracts/test_contract.py."""


class TestFakeProvider(ProviderContract):
    """The whole suite, as a provider author runs it."""

    def make_harness(self) -> ContractHarness:
        return restartable_harness()


class TestFakeInYenWithoutAStatedRate(ProviderContract):
    """Another configuration: a zero-decimal currency, another account, the rate left unstated."""

    def make_harness(self) -> ContractHarness:
        provider = FakeProvider(
            accounts={"400": Decimal("0.08")}, default_account_code="400", currencies=["JPY"]
        )
        return ContractHarness(
            service=BillingService(provider),
            driver=FakeDriver(provider),
            currency="JPY",
            account_code="400",
            tax_rate=None,
        )


class TestFakeWithTimedSignaturesAndSnapshots(WebhookContract, WebhookSecrecyContract):
    """The webhook contract for a fake whose deliveries are signed with a time and carry state.

    What the default fake leaves undeclared (a signature tolerance, snapshot events) runs here.
    """

    def make_harness(self) -> ContractHarness:
        return restartable_harness(signature_tolerance=timedelta(minutes=5), snapshot_events=True)


def test_every_capability_has_a_probe() -> None:
    assert set(PROBES) == set(Capability)


# -- capabilities the provider lacks, and drivers without fault injection ---------------------

LIMITED = """
from ams_billing import BillingService
from ams_billing.contracts import ContractHarness, ProviderContract
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing import FakeDriver


class PaymentsOnly:
    # A driver that pays and delivers but cannot inject faults.
    def __init__(self, fake):
        driver = FakeDriver(fake)
        self.record_payment = driver.record_payment
        self.take_webhook_deliveries = driver.take_webhook_deliveries


class TestLimited(ProviderContract):
    def make_harness(self):
        provider = FakeProvider(can_send_email=False)
        return ContractHarness(service=BillingService(provider), driver=PaymentsOnly(provider),
                               account_code="200", tax_rate=provider.accounts["200"])
"""


def outcomes(reports: Iterable[pytest.TestReport]) -> dict[str, str]:
    return {report.nodeid.rpartition("::")[2]: report.outcome for report in reports}


def test_absent_capability_and_fault_injection_skip_with_reasons(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_limited=LIMITED)
    recorder = pytester.inline_run(*INLINE)
    passed, skipped, failed = recorder.listoutcomes()
    assert failed == []
    results = outcomes([*passed, *skipped])
    # The absent capability is probed, and its operation raises UnsupportedOperationError.
    assert results["test_absent_capability_is_unsupported[send_invoice]"] == "passed"
    assert results["test_absent_capability_is_unsupported[void_invoice]"] == "skipped"
    # Its tests skip, saying why; the policies that answer before the provider still run.
    assert results["test_invoice_is_emailed_to_its_contact"] == "skipped"
    assert results["test_whitelist_policy_skips_other_recipients"] == "passed"
    reasons = {str(report.longrepr) for report in skipped}
    assert any("does not offer SEND_INVOICE" in reason for reason in reasons)
    assert any("has no fault injection" in reason for reason in reasons)
    fault_tests = [name for name in dir(FaultContract) if name.startswith("test_")]
    assert fault_tests
    fault_results = {
        node: outcome for node, outcome in results.items() if node.split("[")[0] in fault_tests
    }
    assert {node.split("[")[0] for node in fault_results} == set(fault_tests)
    assert set(fault_results.values()) == {"skipped"}
    # The comparison with the fake still runs (without the fault rule).
    assert results["test_provider_behaves_like_the_fake"] == "passed"
    # So do the tests that need the other optional driver methods: they skip, saying why.
    assert any("signs no bodies of its own" in reason for reason in reasons)
    assert any("makes no DRAFT invoices" in reason for reason in reasons)
    assert any("the harness has no restart" in reason for reason in reasons)
    restart_tests = [name for name in dir(RestartContract) if name.startswith("test_")]
    assert restart_tests
    assert all(results[name] == "skipped" for name in restart_tests)
    assert any("cannot make the accounting system forget" in reason for reason in reasons)
    expiry_tests = [name for name in dir(KeyExpiryContract) if name.startswith("test_")]
    assert expiry_tests
    assert all(results[name] == "skipped" for name in expiry_tests)
    assert any("names no secrets" in reason for reason in reasons)
    # Without a signer or secrets, the refusals that need neither are still searched.
    for forgery in ("corrupted-signature", "absent-signature"):
        assert results[f"test_refused_delivery_reveals_no_valid_signature[{forgery}]"] == "passed"
        assert results[f"test_refused_delivery_reveals_no_secret[{forgery}]"] == "skipped"
    assert results["test_refused_delivery_reveals_no_valid_signature[changed-body]"] == "skipped"
    for name in (
        "test_one_key_sends_one_email",
        "test_other_tenants_events_are_dropped",
        "test_draft_invoice_has_no_online_url",
        "test_other_currencies_are_billed_in_that_currency[EXCLUSIVE]",
    ):
        assert results[name] == "skipped", name


def test_no_two_contract_mixins_share_a_test_name() -> None:
    # ProviderContract inherits every mixin: a name defined twice would silently hide one test.
    owners: dict[str, list[str]] = {}
    for mixin in ProviderContract.__mro__[1:]:
        for name in vars(mixin):
            if name.startswith("test_"):
                owners.setdefault(name, []).append(mixin.__name__)
    assert {name: who for name, who in owners.items() if len(who) > 1} == {}


# -- the zero-code run ------------------------------------------------------------------------


def zero_code(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "--pyargs", "ams_billing.contracts", "-p", "no:cacheprovider", "--strict-markers",
        "-W", "error", *args,
    )  # fmt: skip


@pytest.mark.parametrize(
    "provider", ["fake", "ams_billing.providers.fake.FakeProvider"], ids=["name", "path"]
)
def test_zero_code_run_passes_for_the_fake(pytester: pytest.Pytester, provider: str) -> None:
    result = zero_code(pytester, f"--billing-provider={provider}", "-v")
    counts = result.parseoutcomes()
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert counts["passed"] > 50
    assert "failed" not in counts
    assert "error" not in counts
    result.stdout.fnmatch_lines_random([f"*test_contract.py::{name}::*PASSED*" for name in CLASSES])
    collected = {line.split("::")[0] for line in result.stdout.lines if "::" in line}
    assert {path.rpartition("/")[2] for path in collected} == {"test_contract.py"}


def test_zero_code_run_passes_for_a_fake_declaring_stripe_s_behaviour(
    pytester: pytest.Pytester,
) -> None:
    # Whole quantities, no tax, a zero invoice PAID, the contact frozen, no past due dates: the
    # suite checks what is declared, so a provider that answers unlike Xero passes it.
    module = "contract_broken_promises"
    pytester.makepyfile(**{module: (HERE / f"{module}.py").read_text("utf-8")})
    result = zero_code(pytester, f"--billing-provider={module}.StripeLikeFake", "-v", "-rs")
    counts = result.parseoutcomes()
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert counts["passed"] > 150
    assert "failed" not in counts
    assert "error" not in counts
    result.stdout.fnmatch_lines_random(
        [
            f"*::{name} PASSED*"
            for name in (
                "test_zero_total_invoice_takes_the_declared_status",
                "test_reread_invoice_shows_the_declared_contact_details",
                "test_quantity_finer_than_declared_is_refused_naming_the_line",
                "test_line_tax_rate_is_refused_without_tax",
                "test_past_due_date_is_refused_naming_it_when_declared",
                "test_generated_invoices_have_xero_totals",
                "test_provider_behaves_like_the_fake",
            )
        ]
    )
    # The five tax tests skip, saying why; nothing else skips but the capability probes.
    result.stdout.fnmatch_lines_random(
        [
            "*::test_half_cent_tax_rounds_half_away_from_zero SKIPPED*",
            "*::test_tax_is_computed_and_rounded_per_line[[]EXCLUSIVE[]] SKIPPED*",
            "*::test_line_tax_rate_is_applied_or_refused_naming_it SKIPPED*",
            "SKIPPED [[]5[]] *: the provider declares TaxModel.NO_TAX: it computes no tax*",
        ]
    )
    assert counts["skipped"] == 5 + len(Capability)


def test_zero_code_run_without_a_provider_skips_saying_why(pytester: pytest.Pytester) -> None:
    result = zero_code(pytester, "-rs")
    counts = result.parseoutcomes()
    assert result.ret == pytest.ExitCode.OK
    assert counts["skipped"] > 50
    assert "passed" not in counts
    result.stdout.fnmatch_lines(["*needs a provider: pass --billing-provider=NAME*"])


def test_zero_code_run_with_an_unknown_provider_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    result = zero_code(pytester, "--billing-provider=nosuchprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--billing-provider*'nosuchprovider'*fake*"])
    # The fix names what the user used: the option, not a variable they never set.
    result.stderr.fnmatch_lines(["*Set --billing-provider to an installed provider name*"])
    assert "AMS_BILLING_SERVICE_CLASS" not in result.stderr.str()


def test_zero_code_run_needs_a_contract_harness(pytester: pytest.Pytester) -> None:
    result = zero_code(pytester, "--billing-provider=ams_billing.BillingService")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*BillingService has no contract_harness() class method*"])


def test_zero_code_run_does_not_clash_with_a_billing_package(pytester: pytest.Pytester) -> None:
    # An AMS with its own top-level ``billing`` app, imported before collection: the suite's
    # modules are imported as ams_billing.contracts.*, never as billing.contracts.*.
    pytester.mkpydir("billing")
    pytester.makeconftest("import billing")
    result = zero_code(pytester, "--billing-provider=fake", "-k", "contacts")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert result.parseoutcomes()["passed"] > 3


# -- the plugin in a project that does not use it ----------------------------------------------


def test_plugin_is_inert_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_other="""
        import sys

        def test_nothing_of_ams_billing_was_added(request):
            assert "harness" not in request.fixturenames
            assert not any(name.startswith("billing") for name in sys.modules)
            assert "ams_billing.contracts.case" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=1)
    help_text = pytester.runpytest_subprocess("--help").stdout.str()
    assert "ams-billing" in help_text
    assert "--billing-provider=NAME" in help_text


def test_marker_is_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.contract: *contract suite*"])
