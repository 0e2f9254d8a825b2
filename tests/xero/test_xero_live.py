"""The contract against a real Xero tenant: off unless asked for, and never without credentials.

Run it with the setup guide's variables (a Demo Company is the place for it)::

    AMS_BILLING_XERO_LIVE=1 XERO_CLIENT_ID=... XERO_CLIENT_SECRET=... XERO_WEBHOOK_KEY=... \\
    XERO_ACCOUNT_CODE=200 XERO_AMOUNT_TYPE=EXCLUSIVE XERO_CURRENCY_CODE=NZD \\
        pytest tests/xero/test_xero_live.py          # or: pytest tests/xero --xero-live

Everything it creates carries ``ams-billing-test-`` in its references and is cleaned up when
each test ends: payments deleted, invoices voided, contacts archived. Xero's rate limits make a
run take minutes; the generated (Hypothesis) tests are left to the emulator runs.
"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import settings

from ams_billing.contracts import ContractHarness, ProviderContract, builders
from ams_billing.contracts.case import STATEFUL
from ams_billing.emulators.xero.live import (
    LIVE_FLAG,
    LIVE_PREFIX,
    live_harness,
    missing_variables,
)

pytestmark = pytest.mark.live

GENERATED = "generated data is not sent to a real tenant; the emulator runs cover these tests"


def skip_reason(config: pytest.Config) -> str | None:
    """Why the live tests cannot run here, or None when they can."""
    asked = os.environ.get(LIVE_FLAG, "").strip() == "1" or config.getoption("--xero-live", False)
    if not asked:
        return f"live Xero tests are off: set {LIVE_FLAG}=1 or pass --xero-live"
    missing = missing_variables()
    if missing:
        return f"live Xero tests need {', '.join(missing)} (see the Xero billing setup guide)"
    return None


_UNIQUE = builders.unique


def _prefixed(prefix: str) -> str:
    return _UNIQUE(f"{LIVE_PREFIX}{prefix}")


class TestXeroLive(ProviderContract):
    """The whole contract, against the tenant the ``XERO_*`` variables name."""

    stateful_settings = settings(STATEFUL, max_examples=2, stateful_step_count=8)

    @pytest.fixture(autouse=True)
    def _live_only(self, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
        reason = skip_reason(request.config)
        if reason is not None:
            pytest.skip(reason)
        for module in list(sys.modules.values()):
            name = getattr(module, "__name__", "")
            if (
                name.startswith("ams_billing.contracts")
                and getattr(module, "unique", None) is _UNIQUE
            ):
                monkeypatch.setattr(module, "unique", _prefixed)

    def make_harness(self) -> ContractHarness:
        return live_harness()

    @pytest.mark.skip(reason=GENERATED)
    def test_generated_contacts_are_held_as_given(self) -> None:  # type: ignore[override]
        """Left to the emulator runs."""

    @pytest.mark.skip(reason=GENERATED)
    def test_generated_invoices_have_the_declared_totals(self) -> None:  # type: ignore[override]
        """Left to the emulator runs."""


def test_the_skip_names_the_missing_variable(
    monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config
) -> None:
    monkeypatch.setenv(LIVE_FLAG, "1")
    for name in ("XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "XERO_WEBHOOK_KEY"):
        monkeypatch.setenv(name, "x")
    for name in ("XERO_ACCOUNT_CODE", "XERO_AMOUNT_TYPE", "XERO_CURRENCY_CODE"):
        monkeypatch.delenv(name, raising=False)
    assert skip_reason(pytestconfig) == (
        "live Xero tests need XERO_ACCOUNT_CODE, XERO_AMOUNT_TYPE, XERO_CURRENCY_CODE "
        "(see the Xero billing setup guide)"
    )
    monkeypatch.delenv(LIVE_FLAG)
    if not pytestconfig.getoption("--xero-live", False):
        assert skip_reason(pytestconfig) == (
            f"live Xero tests are off: set {LIVE_FLAG}=1 or pass --xero-live"
        )
