from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
from emulator_helpers import API

from ams_billing.contracts.xero_emulator import authorised_client
from ams_billing.emulators.xero import (
    EmulatorConfig,
    WebhookBehaviour,
    XeroEmulator,
)


class Receiver:
    """A webhook endpoint that verifies signatures like a correct receiver."""

    def __init__(self, key: str, status: int = 200) -> None:
        self.key = key
        self.status = status
        self.bodies: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        expected = base64.b64encode(
            hmac.new(self.key.encode(), body, hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected, request.headers.get("x-xero-signature", "")):
            return httpx.Response(401)
        self.bodies.append(json.loads(body))
        return httpx.Response(self.status)


def events(receiver: Receiver) -> list[tuple[str, str]]:
    return [(e["eventCategory"], e["eventType"]) for b in receiver.bodies for e in b["events"]]


def test_changes_produce_signed_events(emu, api, make_invoice):
    receiver = Receiver(emu.config.webhook_key)
    emu.set_webhook_target(receiver)
    invoice = make_invoice()
    emu.record_payment(invoice["InvoiceID"], "5.00")
    assert receiver.bodies == []  # nothing is sent until deliver_webhooks()
    results = emu.deliver_webhooks()
    assert all(r.ok for r in results)
    assert events(receiver) == [("CONTACT", "CREATE"), ("INVOICE", "CREATE"), ("INVOICE", "UPDATE")]
    body = receiver.bodies[0]
    assert body["firstEventSequence"] == 1
    assert body["lastEventSequence"] == 3
    assert len(body["entropy"]) == 20
    event = body["events"][1]
    assert event["resourceId"] == invoice["InvoiceID"]
    assert event["resourceUrl"].endswith(f"/Invoices/{invoice['InvoiceID']}")
    assert event["eventDateUtc"] == "2026-01-15T09:00:00.000"  # no zone designator
    assert event["tenantId"] == emu.config.tenant_id
    assert event["tenantType"] == "ORGANISATION"
    assert emu.webhooks.pending == 0


def test_contact_update_and_archive_are_update_events(emu, api, make_contact):
    receiver = Receiver(emu.config.webhook_key)
    emu.set_webhook_target(receiver)
    contact = make_contact()
    api.post(f"{API}/Contacts/{contact['ContactID']}", json={"ContactStatus": "ARCHIVED"})
    emu.deliver_webhooks()
    assert events(receiver) == [("CONTACT", "CREATE"), ("CONTACT", "UPDATE")]


def test_failed_requests_queue_no_events(emu, api):
    receiver = Receiver(emu.config.webhook_key)
    emu.set_webhook_target(receiver)
    api.put(f"{API}/Contacts", json={"Name": "x", "EmailAddress": "bad"})
    assert emu.deliver_webhooks() == []


def test_failed_delivery_is_retried_later(emu, make_contact):
    receiver = Receiver(emu.config.webhook_key, status=500)
    emu.set_webhook_target(receiver)
    make_contact()
    [failed] = emu.deliver_webhooks()
    assert failed.status == 500
    assert not failed.ok
    assert emu.webhooks.pending == 1
    assert emu.deliver_webhooks() == []  # not due yet
    receiver.status = 200
    emu.clock.advance(60)
    [retried] = emu.deliver_webhooks()
    assert retried.ok
    assert retried.attempt == 2
    assert retried.payload == failed.payload
    assert emu.webhooks.pending == 0


def test_connection_errors_are_retried_and_subscription_disabled_after_24h(emu, make_contact):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    emu.set_webhook_target(refuse)
    make_contact()
    [first] = emu.deliver_webhooks()
    assert first.status is None
    assert "ConnectError" in first.error
    for _ in range(30):
        emu.clock.advance(3600)
        emu.deliver_webhooks()
        if emu.webhooks.disabled:
            break
    assert emu.webhooks.disabled
    receiver = Receiver(emu.config.webhook_key)
    emu.set_webhook_target(receiver)  # re-enabling
    emu.deliver_webhooks(force=True)
    assert events(receiver) == [("CONTACT", "CREATE")]


def test_wrong_key_receiver_rejects(make_contact, emu):
    receiver = Receiver("another key")
    emu.set_webhook_target(receiver)
    make_contact()
    [result] = emu.deliver_webhooks()
    assert result.status == 401


def test_intent_to_receive_passes_for_a_correct_endpoint(emu):
    emu.set_webhook_target(Receiver(emu.config.webhook_key))
    report = emu.intent_to_receive()
    assert report.passed
    assert [c.correctly_signed for c in report.checks].count(False) >= 1
    assert [c.correctly_signed for c in report.checks].count(True) >= 1


def test_intent_to_receive_fails_for_an_endpoint_that_always_says_ok(emu):
    emu.set_webhook_target(lambda request: httpx.Response(200))
    report = emu.intent_to_receive()
    assert not report.passed
    assert [c.passed for c in report.checks if c.correctly_signed] == [True]


def test_intent_to_receive_fails_on_body_or_cookie(emu):
    key = emu.config.webhook_key

    def chatty(request: httpx.Request) -> httpx.Response:
        status = Receiver(key)(request).status_code
        return httpx.Response(status, text="ok", headers={"Set-Cookie": "s=1"})

    emu.set_webhook_target(chatty)
    report = emu.intent_to_receive()
    assert not report.passed
    assert all(not c.body_empty and c.sets_cookie for c in report.checks)


def test_itr_payload_shape(emu):
    seen: list[dict] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.read()))
        return httpx.Response(401)

    emu.set_webhook_target(record)
    emu.intent_to_receive()
    assert seen
    for body in seen:
        assert body["events"] == []
        assert body["firstEventSequence"] == body["lastEventSequence"] == 0
        assert body["entropy"]


def _noisy(seed: int, **behaviour) -> tuple[XeroEmulator, Receiver]:
    emu = XeroEmulator(
        EmulatorConfig(seed=seed, webhooks=WebhookBehaviour(batch_size=1, **behaviour))
    )
    receiver = Receiver(emu.config.webhook_key)
    emu.set_webhook_target(receiver)
    with authorised_client(emu) as api:
        for i in range(10):
            api.put(f"{API}/Contacts", json={"Name": f"C{i}"})
    return emu, receiver


def test_duplicate_mode():
    emu, receiver = _noisy(1, duplicate=0.5)
    results = emu.deliver_webhooks()
    sequences = [b["firstEventSequence"] for b in receiver.bodies]
    assert len(sequences) > len(set(sequences)) == 10
    assert any(r.duplicate for r in results)


def test_reorder_mode_is_seeded():
    orders = []
    for _ in range(2):
        emu, receiver = _noisy(2, reorder=True)
        emu.deliver_webhooks()
        orders.append([b["firstEventSequence"] for b in receiver.bodies])
    assert orders[0] == orders[1]
    assert sorted(orders[0]) == list(range(1, 11))
    assert orders[0] != list(range(1, 11))


def test_drop_mode():
    emu, receiver = _noisy(3, drop=0.3)
    results = emu.deliver_webhooks()
    dropped = [r for r in results if r.dropped]
    assert 0 < len(dropped) < 10
    assert len(receiver.bodies) == 10 - len(dropped)
    assert emu.webhooks.pending == 0  # dropped payloads are lost, as if Xero never sent them


def test_sign_helper_matches_hmac(emu):
    body = b'{"events":[]}'
    expected = base64.b64encode(
        hmac.new(emu.config.webhook_key.encode(), body, hashlib.sha256).digest()
    )
    assert emu.sign_webhook(body) == expected.decode()
