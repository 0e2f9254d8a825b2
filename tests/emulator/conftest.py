"""Shared fixtures for the emulator tests (in-process unless a test says otherwise)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from emulator_helpers import API, load_spec, spec_dir

from ams_billing.contracts.xero_emulator import (  # noqa: F401 - fixtures
    authorised_client,
    xero_emulator,
    xero_emulator_client,
    xero_emulator_server,
)
from ams_billing.emulators.xero import EmulatorClock, EmulatorConfig, XeroEmulator


@pytest.fixture
def emu() -> XeroEmulator:
    return XeroEmulator(EmulatorConfig(), clock=EmulatorClock.virtual())


@pytest.fixture
def api(emu: XeroEmulator) -> Iterator[httpx.Client]:
    with authorised_client(emu) as client:
        yield client


@pytest.fixture
def make_contact(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    counter = iter(range(1, 10_000))

    def make(**fields: Any) -> dict[str, Any]:
        body = {"Name": f"Member {next(counter)}", **fields}
        response = api.put(f"{API}/Contacts", json={"Contacts": [body]})
        assert response.status_code == 200, response.text
        return response.json()["Contacts"][0]

    return make


@pytest.fixture
def make_invoice(
    api: httpx.Client, make_contact: Callable[..., dict[str, Any]]
) -> Callable[..., dict[str, Any]]:
    def make(
        amount: str = "100.00", status: str = "AUTHORISED", contact_id: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        contact_id = contact_id or make_contact()["ContactID"]
        body = {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact_id},
            "Status": status,
            "LineItems": [
                {
                    "Description": "Membership",
                    "Quantity": 1,
                    "UnitAmount": amount,
                    "AccountCode": "200",
                }
            ],
            **kw,
        }
        response = api.put(f"{API}/Invoices", json={"Invoices": [body]})
        assert response.status_code == 200, response.text
        return response.json()["Invoices"][0]

    return make


@pytest.fixture(scope="session")
def openapi() -> Callable[[str], dict[str, Any]]:
    if spec_dir() is None:
        pytest.skip(
            "Xero OpenAPI spec not found at ../shared/reference/xero-openapi; "
            "set AMS_BILLING_XERO_OPENAPI_DIR"
        )
    return load_spec
