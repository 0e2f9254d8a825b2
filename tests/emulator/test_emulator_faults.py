from __future__ import annotations

import httpx
import pytest
from emulator_helpers import API

from ams_billing.emulators.xero import FaultKind, FaultRule


def create(api, name="Ada", **headers):
    return api.put(f"{API}/Contacts", json={"Name": name}, headers=headers)


def test_drop_before_changes_nothing(emu, api):
    emu.add_fault(FaultRule("drop_before", method="PUT", path="/Contacts", count=1))
    with pytest.raises(httpx.RemoteProtocolError):
        create(api)
    assert emu.books().contacts == ()
    assert create(api).status_code == 200
    assert emu.call_summary().dropped == 1


def test_drop_after_applies_the_change_and_naive_retry_duplicates(emu, api):
    emu.add_fault(FaultRule(FaultKind.DROP_AFTER, method="PUT", path="/Invoices", count=1))
    contact = create(api).json()["Contacts"][0]["ContactID"]
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact},
        "LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 5, "AccountCode": "200"}],
    }
    with pytest.raises(httpx.ReadError):
        api.put(f"{API}/Invoices", json=body)
    assert len(emu.books().invoices) == 1
    api.put(f"{API}/Invoices", json=body)  # a retry without a key duplicates the invoice
    assert len(emu.books().invoices) == 2


def test_drop_after_with_idempotency_key_is_safe_to_retry(emu, api):
    emu.add_fault(FaultRule("drop_after", method="PUT", count=1))
    with pytest.raises(httpx.ReadError):
        create(api, **{"Idempotency-Key": "m-1"})
    retry = create(api, **{"Idempotency-Key": "m-1"})
    assert retry.status_code == 200
    assert len(emu.books().contacts) == 1


@pytest.mark.parametrize(
    ("kind", "status", "text"),
    [
        ("server_error", 500, "An unhandled error with the Xero API"),
        ("organisation_offline", 503, "The Organisation is offline"),
    ],
)
def test_error_faults_apply_nothing(emu, api, kind, status, text):
    emu.add_fault(FaultRule(kind, count=1))
    response = create(api)
    assert response.status_code == status
    assert text in response.text
    assert emu.books().contacts == ()
    assert emu.call_summary().faults == {kind: 1}


def test_slow_virtual_response_advances_clock(emu, api):
    before = emu.clock.now()
    emu.add_fault(FaultRule("slow", delay=3.0, count=1))
    assert api.get(f"{API}/Contacts").status_code == 200
    assert (emu.clock.now() - before).total_seconds() == 3.0


def test_slow_response_beyond_timeout_raises_read_timeout_after_applying(emu, api):
    emu.add_fault(FaultRule("slow", method="PUT", delay=30.0, count=1))
    with pytest.raises(httpx.ReadTimeout):
        api.put(f"{API}/Contacts", json={"Name": "Ada"}, timeout=5.0)
    assert len(emu.books().contacts) == 1


def test_rule_matching_skip_and_count(emu, api):
    emu.add_fault(FaultRule("server_error", method="GET", path=r"/Invoices$", skip=1, count=2))
    statuses = [api.get(f"{API}/Invoices").status_code for _ in range(4)]
    assert statuses == [200, 500, 500, 200]
    assert api.get(f"{API}/Contacts").status_code == 200


def test_probability_is_seeded(emu):
    def run() -> list[int]:
        from ams_billing.contracts.xero_emulator import authorised_client
        from ams_billing.emulators.xero import EmulatorConfig, XeroEmulator

        fresh = XeroEmulator(EmulatorConfig(seed=3, rate_limits=False))
        fresh.add_fault(FaultRule("server_error", probability=0.3))
        with authorised_client(fresh) as client:
            return [client.get(f"{API}/Contacts").status_code for _ in range(40)]

    first, second = run(), run()
    assert first == second
    assert 0 < first.count(500) < 40
