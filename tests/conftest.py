"""Shared fixtures for ams-billing's own tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ams_billing import Contact, InvoiceRequest, LineItem

# tests/in_ams runs inside a patched copy of the AMS (nox -s ams), with the AMS on the path.
# (Not "tests/ams": with tests/ on sys.path, that folder would be a namespace package "ams".)
collect_ignore = ["in_ams"]

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None, database=None)
settings.load_profile("ci")


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, not in tests/xero/conftest.py, so the option works from the repository root too.
    parser.addoption(
        "--xero-live",
        action="store_true",
        default=False,
        help="run tests/xero/test_xero_live.py against the Xero tenant the XERO_* variables name",
    )


@pytest.fixture(autouse=True)
def _billing_state_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes billing state to the real user's data directory.

    ``load_service()`` keeps its state in ``$XDG_DATA_HOME/ams-billing/billing.sqlite3`` unless
    ``AMS_BILLING_DATABASE_URL`` says otherwise: here that is a folder of this test's own (and
    of the subprocesses it starts, which inherit the environment), and a database URL from
    the developer's shell is not used. Tests that do not care about durability pass
    ``stores="memory:"`` (or ``AMS_BILLING_DATABASE_URL=memory:``), which is cheaper.
    """
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("AMS_BILLING_DATABASE_URL", raising=False)


@pytest.fixture
def contact() -> Contact:
    return Contact("acct-1", "Ada Lovelace", "ada@example.org", "Ada", "Lovelace")


@pytest.fixture
def invoice_request(contact: Contact) -> InvoiceRequest:
    return InvoiceRequest(
        contact=contact,
        line_items=[LineItem("Annual membership", Decimal(1), Decimal("120.00"))],
        currency="NZD",
        issue_date=date(2026, 7, 1),
        due_date=date(2026, 7, 31),
        reference="MEMBERSHIP-7",
    )
