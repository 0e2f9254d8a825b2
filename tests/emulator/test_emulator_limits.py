from __future__ import annotations

import threading

import pytest
from emulator_helpers import API

from ams_billing.contracts.xero_emulator import authorised_client
from ams_billing.emulators.xero import (
    EmulatorConfig,
    FaultRule,
    RateLimits,
    XeroEmulator,
)


def test_minute_limit_and_retry_after(emu, api):
    emu.clock.advance(0.5)
    for i in range(60):
        response = api.get(f"{API}/Contacts")
        assert response.status_code == 200
        assert response.headers["X-MinLimit-Remaining"] == str(59 - i)
        emu.clock.advance(0.25)
    refused = api.get(f"{API}/Contacts")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert refused.headers["Retry-After"] == "45"  # window opened 15 s ago
    assert emu.call_summary().limit_hits == {"minute": 1}
    emu.clock.advance(45)
    again = api.get(f"{API}/Contacts")
    assert again.status_code == 200
    assert again.headers["X-MinLimit-Remaining"] == "59"
    assert again.headers["X-DayLimit-Remaining"] == str(5000 - 61)


def test_day_limit():
    emu = XeroEmulator(EmulatorConfig(rate_limits=RateLimits(per_day=3, per_minute=None)))
    with authorised_client(emu) as api:
        assert [api.get(f"{API}/Contacts").status_code for _ in range(4)] == [200, 200, 200, 429]
        refused = api.get(f"{API}/Contacts")
        assert refused.headers["X-Rate-Limit-Problem"] == "day"
        assert refused.headers["Retry-After"] == "86400"
        assert "X-MinLimit-Remaining" not in refused.headers


def test_app_minute_limit():
    emu = XeroEmulator(EmulatorConfig(rate_limits=RateLimits(app_per_minute=2)))
    with authorised_client(emu) as api:
        api.get("/connections")
        api.get(f"{API}/Contacts")
        refused = api.get(f"{API}/Contacts")
        assert refused.status_code == 429
        assert refused.headers["X-Rate-Limit-Problem"] == "appminute"


def test_limits_can_be_disabled():
    emu = XeroEmulator(EmulatorConfig(rate_limits=False))
    with authorised_client(emu) as api:
        responses = [api.get(f"{API}/Contacts") for _ in range(70)]
        assert {r.status_code for r in responses} == {200}
        assert "X-MinLimit-Remaining" not in responses[-1].headers


def test_concurrent_limit_without_sleeping(emu):
    release = threading.Event()
    emu.add_fault(FaultRule("slow", method="GET", path="/Contacts$", count=5, hold=release))
    results: list[int] = []

    def call() -> None:
        with authorised_client(emu) as client:
            results.append(client.get(f"{API}/Contacts").status_code)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(200):  # bounded wait for all five to be in flight
            if emu.in_flight() >= 5:
                break
            threading.Event().wait(0.01)
        with authorised_client(emu) as client:
            refused = client.get(f"{API}/Invoices")
        assert refused.status_code == 429
        assert refused.headers["X-Rate-Limit-Problem"] == "concurrent"
        assert "Retry-After" not in refused.headers
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=10)
    assert results == [200] * 5


def test_idempotent_replay(emu, api):
    key = {"Idempotency-Key": "create-member-1"}
    first = api.put(f"{API}/Contacts", json={"Name": "Ada"}, headers=key)
    second = api.put(f"{API}/Contacts", json={"Name": "Ada"}, headers=key)
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert second.headers["Xero-Correlation-Id"] == first.headers["Xero-Correlation-Id"]
    assert len(emu.books().contacts) == 1
    assert emu.call_summary().replays == 1
    # replays still count against the limits
    assert second.headers["X-MinLimit-Remaining"] == "58"


def test_idempotency_key_reused_for_different_request(api):
    key = {"Idempotency-Key": "k1"}
    api.put(f"{API}/Contacts", json={"Name": "Ada"}, headers=key)
    response = api.put(f"{API}/Contacts", json={"Name": "Grace"}, headers=key)
    assert response.status_code == 400
    assert "is used with a different request" in response.text
    other_path = api.post(f"{API}/Contacts", json={"Name": "Ada"}, headers=key)
    assert other_path.status_code == 400


def test_idempotency_retention_window(emu, api):
    key = {"Idempotency-Key": "k2"}
    api.put(f"{API}/Contacts", json={"Name": "Ada"}, headers=key)
    emu.clock.advance(359)
    assert api.put(f"{API}/Contacts", json={"Name": "Ada"}, headers=key).status_code == 200
    emu.clock.advance(1)
    late = api.put(f"{API}/Contacts", json={"Name": "Ada"}, headers=key)
    assert late.status_code == 400  # executed again: the name is now taken
    assert len(emu.books().contacts) == 1


def test_idempotent_error_responses_are_replayed(emu, api, make_contact):
    make_contact(Name="Ada")
    key = {"Idempotency-Key": "k3"}
    first = api.put(f"{API}/Contacts", json={"Name": "Ada"}, headers=key)
    assert first.status_code == 400
    second = api.put(f"{API}/Contacts", json={"Name": "Ada"}, headers=key)
    assert second.content == first.content


def test_idempotency_key_too_long(api):
    response = api.put(
        f"{API}/Contacts", json={"Name": "A"}, headers={"Idempotency-Key": "k" * 129}
    )
    assert response.status_code == 400
    ok = api.put(f"{API}/Contacts", json={"Name": "A"}, headers={"Idempotency-Key": "k" * 128})
    assert ok.status_code == 200


def test_idempotent_email_is_not_counted_twice():
    emu = XeroEmulator(EmulatorConfig(email_daily_limit=1))
    with authorised_client(emu) as api:
        contact = api.put(f"{API}/Contacts", json={"Name": "A"}).json()["Contacts"][0]["ContactID"]
        invoice = {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact},
            "Status": "AUTHORISED",
            "LineItems": [
                {"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "200"}
            ],
        }
        inv = api.put(f"{API}/Invoices", json=invoice).json()["Invoices"][0]["InvoiceID"]
        key = {"Idempotency-Key": "email-1"}
        assert api.post(f"{API}/Invoices/{inv}/Email", json={}, headers=key).status_code == 204
        assert api.post(f"{API}/Invoices/{inv}/Email", json={}, headers=key).status_code == 204
        assert api.post(f"{API}/Invoices/{inv}/Email", json={}).status_code == 400


@pytest.mark.parametrize("kind", ["rate_limit_minute", "rate_limit_day"])
def test_injected_rate_limit(emu, api, kind):
    emu.add_fault(FaultRule(kind, count=1))
    refused = api.get(f"{API}/Contacts")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == kind.removeprefix("rate_limit_")
    assert int(refused.headers["Retry-After"]) > 0
    assert api.get(f"{API}/Contacts").status_code == 200
