"""The emulator's rules over raw HTTP: auth, errors, idempotency, limits, faults, holds, events."""

from __future__ import annotations

import base64
import threading

import httpx
import pytest

from ams_billing.emulators.stripe import (
    FaultKind,
    FaultRule,
    RateLimits,
    StripeEmulator,
    StripeEmulatorConfig,
)
from ams_billing.emulators.stripe.form import parse_form, parse_pairs


def _customer(http: httpx.Client, **data: str) -> dict[str, object]:
    response = http.post("/v1/customers", data=data or {"name": "X"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_auth_accepts_bearer_and_basic_and_refuses_the_rest(emu: StripeEmulator) -> None:
    basic = base64.b64encode(f"{emu.secret_key}:".encode()).decode()
    with httpx.Client(base_url=emu.base_url) as raw:
        assert (
            raw.get("/v1/customers", headers={"Authorization": f"Basic {basic}"}).status_code == 200
        )
        for header in ({}, {"Authorization": "Bearer sk_test_wrongwrongwrong"}):
            response = raw.get("/v1/customers", headers=header)
            assert response.status_code == 401
            assert response.json()["error"]["type"] == "invalid_request_error"
            assert response.headers["Request-Id"].startswith("req_")
        refused = raw.get(
            "/v1/customers", headers={"Authorization": "Bearer sk_test_wrongwrongwrong"}
        )
        assert "wrongwrongwrong" not in refused.text  # the key is masked
    assert [c.status for c in emu.calls] == [200, 401, 401, 401]


def test_unknown_urls_and_parameters(http: httpx.Client) -> None:
    response = http.get("/v1/charges")
    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith(
        "Unrecognized request URL (GET: /v1/charges)"
    )
    unknown = http.post("/v1/customers", data={"colour": "red"})
    assert unknown.status_code == 400
    assert unknown.json()["error"] == unknown.json()["error"] | {
        "code": "parameter_unknown",
        "param": "colour",
    }
    missing = http.post("/v1/invoices", data={})
    assert missing.json()["error"]["code"] == "parameter_missing"
    assert missing.json()["error"]["param"] == "customer"


def test_form_nesting_both_array_forms_and_unsetting() -> None:
    parsed = parse_form(
        parse_pairs("metadata[a]=1&metadata[b]=&expand[]=customer&expand[]=x&lines[0][amount]=5")
    )
    assert parsed == {
        "metadata": {"a": "1", "b": ""},
        "expand": {"0": "customer", "1": "x"},
        "lines": {"0": {"amount": "5"}},
    }


def test_metadata_unset_and_expand(http: httpx.Client) -> None:
    customer = _customer(http, **{"metadata[a]": "1", "metadata[b]": "2"})
    updated = http.post(f"/v1/customers/{customer['id']}", data={"metadata[a]": ""}).json()
    assert updated["metadata"] == {"b": "2"}
    invoice = http.post(
        "/v1/invoices", data={"customer": customer["id"], "expand[0]": "customer"}
    ).json()
    assert invoice["customer"]["id"] == customer["id"]
    refused = http.get(f"/v1/invoices/{invoice['id']}", params={"expand[]": "charge"})
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "expand"


def test_idempotency_window_is_24_hours_of_the_emulator_clock(
    emu: StripeEmulator, http: httpx.Client
) -> None:
    key = {"Idempotency-Key": "k-24h"}
    first = http.post("/v1/customers", data={"name": "A"}, headers=key)
    emu.advance_clock(24 * 3600 - 1)
    replay = http.post("/v1/customers", data={"name": "A"}, headers=key)
    assert replay.json()["id"] == first.json()["id"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["Idempotency-Key"] == "k-24h"
    emu.advance_clock(1)
    fresh = http.post("/v1/customers", data={"name": "A"}, headers=key)
    assert fresh.json()["id"] != first.json()["id"]
    assert "Idempotent-Replayed" not in fresh.headers


def test_errors_are_replayed_but_validation_failures_are_not(http: httpx.Client) -> None:
    key = {"Idempotency-Key": "k-404"}
    first = http.post("/v1/invoices", data={"customer": "cus_missing"}, headers=key)
    assert first.status_code == 404
    replay = http.post("/v1/invoices", data={"customer": "cus_missing"}, headers=key)
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (404, "true")
    bad = {"Idempotency-Key": "k-400"}
    assert http.post("/v1/customers", data={"colour": "x"}, headers=bad).status_code == 400
    retried = http.post("/v1/customers", data={"name": "fixed"}, headers=bad)
    assert retried.status_code == 200  # the validation 400 was never stored under the key


def test_key_reused_with_other_parameters(http: httpx.Client) -> None:
    key = {"Idempotency-Key": "k-other"}
    http.post("/v1/customers", data={"name": "A"}, headers=key)
    clash = http.post("/v1/customers", data={"name": "B"}, headers=key)
    assert clash.status_code == 400
    assert clash.json()["error"]["type"] == "idempotency_error"
    same_in_other_order = http.post(
        "/v1/customers",
        content=b"name=A",
        headers={**key, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert same_in_other_order.status_code == 200


def test_rate_limits_per_second_and_not_stored() -> None:
    config = StripeEmulatorConfig(rate_limits=RateLimits(read=3, write=2, per_endpoint=10))
    with StripeEmulator(config) as emu, emu.client() as client:
        statuses = [client.get("/v1/customers").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = client.get("/v1/customers")
        assert refused.json()["error"]["code"] == "rate_limit"
        assert refused.headers["Stripe-Rate-Limited-Reason"] == "global-rate"
        key = {"Idempotency-Key": "k-429"}
        client.post("/v1/customers", data={"name": "a"})
        client.post("/v1/customers", data={"name": "b"})
        assert client.post("/v1/customers", data={"name": "c"}, headers=key).status_code == 429
        emu.advance_clock(1)
        assert client.get("/v1/customers").status_code == 200
        created = client.post("/v1/customers", data={"name": "c"}, headers=key)
        assert created.status_code == 200
        assert "Idempotent-Replayed" not in created.headers
        assert emu.call_summary().limited == 3


def test_drop_after_applies_logs_and_replays_to_the_same_key(emu: StripeEmulator) -> None:
    emu.add_fault(FaultRule(FaultKind.DROP_AFTER, method="POST", path=r"^/v1/customers$", count=1))
    with emu.client() as client:
        key = {"Idempotency-Key": "k-cut"}
        with pytest.raises(httpx.ReadError):
            client.post("/v1/customers", data={"name": "Cut"}, headers=key)
        retried = client.post("/v1/customers", data={"name": "Cut"}, headers=key)
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert len(emu.state()["customers"]) == 1
    assert [(c.fault, c.dropped) for c in emu.calls] == [("drop_after", True), (None, False)]


def test_drop_before_over_loopback_applies_nothing(emu: StripeEmulator, http: httpx.Client) -> None:
    emu.add_fault(FaultRule(FaultKind.DROP_BEFORE, method="POST", count=1))
    with pytest.raises(httpx.TransportError):
        http.post("/v1/customers", data={"name": "Never"})
    assert emu.state()["customers"] == []
    assert emu.calls[0].dropped


def test_server_errors_with_should_retry_and_stored(
    emu: StripeEmulator, http: httpx.Client
) -> None:
    emu.add_fault(FaultRule(FaultKind.SERVER_ERROR, count=1, should_retry=True))
    failed = http.post("/v1/customers", data={"name": "A"}, headers={"Idempotency-Key": "k1"})
    assert failed.status_code == 500
    assert failed.headers["Stripe-Should-Retry"] == "true"
    assert failed.json()["error"]["type"] == "api_error"
    ok = http.post("/v1/customers", data={"name": "A"}, headers={"Idempotency-Key": "k1"})
    assert ok.status_code == 200  # not stored: the retry runs
    emu.add_fault(FaultRule(FaultKind.SERVER_ERROR, count=1, stored=True, should_retry=False))
    http.post("/v1/customers", data={"name": "B"}, headers={"Idempotency-Key": "k2"})
    replay = http.post("/v1/customers", data={"name": "B"}, headers={"Idempotency-Key": "k2"})
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (500, "true")


def test_slow_answers_move_the_virtual_clock(emu: StripeEmulator, http: httpx.Client) -> None:
    before = emu.clock.now()
    emu.add_fault(FaultRule(FaultKind.SLOW, delay=30.0, count=1))
    assert http.get("/v1/customers").status_code == 200
    assert (emu.clock.now() - before).total_seconds() == 30.0


def test_a_held_answer_is_applied_before_it_is_sent(
    emu: StripeEmulator, http: httpx.Client
) -> None:
    hold = emu.hold_responses("POST", r"^/v1/customers$")
    answers: list[int] = []
    caller = threading.Thread(
        target=lambda: answers.append(http.post("/v1/customers", data={"name": "H"}).status_code)
    )
    caller.start()
    held = hold.wait_held(timeout=10)
    assert held is not None
    assert len(emu.state()["customers"]) == 1  # applied while the answer waits
    assert answers == []
    hold.release()
    caller.join(timeout=10)
    assert answers == [200]


def test_illegal_transitions_and_past_due_dates(emu: StripeEmulator, http: httpx.Client) -> None:
    customer = _customer(http)
    past = int(emu.clock.now().timestamp()) - 60
    refused = http.post(
        "/v1/invoices",
        data={
            "customer": customer["id"],
            "collection_method": "send_invoice",
            "due_date": str(past),
        },
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "due_date"
    draft = http.post("/v1/invoices", data={"customer": customer["id"]}).json()
    assert http.post(f"/v1/invoices/{draft['id']}/void").status_code == 400
    assert http.post(f"/v1/invoices/{draft['id']}/send").status_code == 400
    http.post(
        "/v1/invoiceitems", data={"customer": customer["id"], "invoice": draft["id"], "amount": "5"}
    )
    http.post(f"/v1/invoices/{draft['id']}/finalize")
    assert http.post(f"/v1/invoices/{draft['id']}/finalize").status_code == 400
    assert http.delete(f"/v1/invoices/{draft['id']}").status_code == 400
    late_item = http.post(
        "/v1/invoiceitems", data={"customer": customer["id"], "invoice": draft["id"], "amount": "5"}
    )
    assert late_item.status_code == 400


def test_events_keep_previous_attributes_and_expire_after_30_days(
    emu: StripeEmulator, http: httpx.Client
) -> None:
    customer = _customer(http, name="Old")
    http.post(f"/v1/customers/{customer['id']}", data={"name": "New"})
    updated = http.get("/v1/events", params={"type": "customer.updated"}).json()["data"][0]
    assert updated["data"]["previous_attributes"] == {"name": "Old"}
    assert updated["data"]["object"]["name"] == "New"
    assert updated["request"]["id"].startswith("req_")
    event_id = updated["id"]
    emu.advance_clock(30 * 86_400)
    assert http.get("/v1/events").json()["data"] == []
    assert http.get(f"/v1/events/{event_id}").status_code == 404


def test_list_pagination(http: httpx.Client) -> None:
    ids = [_customer(http, name=str(n))["id"] for n in range(5)]
    first = http.get("/v1/customers", params={"limit": "2"}).json()
    assert [c["id"] for c in first["data"]] == ids[::-1][:2]
    assert first["has_more"] is True
    rest = http.get("/v1/customers", params={"limit": "10", "starting_after": ids[3]}).json()
    assert [c["id"] for c in rest["data"]] == ids[::-1][2:]
    assert rest["has_more"] is False
    assert http.get("/v1/customers", params={"limit": "101"}).status_code == 400


def test_failed_deliveries_stay_pending(emu: StripeEmulator, http: httpx.Client) -> None:
    from stripe_emu_helpers import webhook_receiver

    with webhook_receiver() as (url, received):
        http.post("/v1/webhook_endpoints", data={"url": url, "enabled_events[]": "customer.*"})
        received.status = 500
        _customer(http)
        assert [a.ok for a in emu.deliver_webhooks()] == [False]
        assert len(http.get("/v1/events", params={"delivery_success": "false"}).json()["data"]) == 1
        received.status = 200
        assert [a.ok for a in emu.deliver_webhooks()] == [True]
        assert emu.pending_deliveries() == 0
        assert len(received.deliveries) == 2


def test_control_surface(emu: StripeEmulator, http: httpx.Client) -> None:
    customer = _customer(http)
    draft = http.post("/v1/invoices", data={"customer": customer["id"]}).json()
    http.post(
        "/v1/invoiceitems", data={"customer": customer["id"], "invoice": draft["id"], "amount": "5"}
    )
    opened = http.post(f"/v1/invoices/{draft['id']}/finalize").json()
    with httpx.Client(base_url=emu.base_url) as control:
        paid = control.post(f"/_emulator/invoices/{draft['id']}/pay", json={})
        assert paid.json()["status"] == "paid"
        again = control.post(f"/_emulator/invoices/{draft['id']}/pay", json={})
        assert again.status_code == 400
        now = control.get("/_emulator/clock").json()["now"]
        assert (
            control.post("/_emulator/clock/advance", json={"seconds": 60}).json()["now"] == now + 60
        )
        page = httpx.get(opened["hosted_invoice_url"])
        assert page.status_code == 200
        assert opened["number"] in page.text
        calls = control.get("/_emulator/calls").json()
        assert calls["summary"]["total"] == len(emu.calls)
        assert (
            control.post("/_emulator/faults", json={"kind": "rate_limit", "count": 1}).status_code
            == 200
        )
        assert http.get("/v1/customers").status_code == 429
        assert control.post("/_emulator/search/delay", json={"seconds": 0}).json() == {
            "seconds": 0.0
        }
        assert control.post("/_emulator/reset").json() == {"reset": True}
        assert control.get("/_emulator/state").json()["customers"] == []
