"""Webhooks: signatures over raw bytes, Intent to Receive, lenient parsing, and the whole path
from a payment in Xero to a listener hearing "paid" exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from xero_rig import Rig

from ams_billing import (
    ChangeKind,
    EventCategory,
    EventType,
    InvoiceChange,
    InvoiceStatus,
    WebhookVerificationError,
    hookimpl,
)
from ams_billing.core.signing import sign_body

KEY = "emulator-webhook-key-NOT-A-SECRET"
TENANT = "e1e1e1e1-0000-4000-8000-00000000e4e0"
ITR = (
    b'{"events": [], "lastEventSequence": 0, "firstEventSequence": 0, "entropy": "S0m3r4Nd0mt3xt"}'
)


class Listener:
    def __init__(self) -> None:
        self.changes: list[InvoiceChange] = []

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        self.changes.append(change)


def _signed(body: bytes, key: str = KEY) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Xero-Signature": sign_body(body, key)}


def test_an_intent_to_receive_body_verifies_and_is_empty(rig: Rig) -> None:
    response = rig.service.handle_webhook(ITR, _signed(ITR))
    assert response.status == 200
    assert response.delivery is not None
    assert response.delivery.events == ()
    assert (response.delivery.first_sequence, response.delivery.last_sequence) == (0, 0)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-xero-signature": ""},
        {"x-xero-signature": "bm90IGEgc2lnbmF0dXJl"},
        _signed(ITR, key="another-key"),
        _signed(ITR + b" "),
    ],
    ids=["missing", "empty", "garbage", "wrong-key", "other-bytes"],
)
def test_a_bad_signature_is_a_401(rig: Rig, headers: dict[str, str]) -> None:
    response = rig.service.handle_webhook(ITR, headers)
    assert (response.status, response.delivery) == (401, None)
    with pytest.raises(WebhookVerificationError):
        rig.service.parse_webhook(ITR, headers)


def test_the_signature_is_over_the_raw_bytes(rig: Rig) -> None:
    spaced = json.dumps(json.loads(ITR), indent=4).encode()
    assert rig.service.handle_webhook(spaced, _signed(spaced)).status == 200
    assert rig.service.handle_webhook(spaced, _signed(ITR)).status == 401


def test_the_emulators_intent_to_receive_check_passes(rig: Rig) -> None:
    def endpoint(request: httpx.Request) -> httpx.Response:
        answer = rig.service.handle_webhook(request.read(), dict(request.headers.items()))
        return httpx.Response(answer.status)

    report = rig.emulator.intent_to_receive(
        "https://members.example.org/billing/xero/webhooks/",
        transport=httpx.MockTransport(endpoint),
    )
    assert report.passed, report.checks
    assert {check.correctly_signed for check in report.checks} == {True, False}


def test_events_are_parsed_leniently(rig: Rig) -> None:
    body = json.dumps(
        {
            "events": [
                {
                    "resourceUrl": "https://api.xero.com/api.xro/2.0/Invoices/abc",
                    "resourceId": "abc",
                    "eventDateUtc": "2024-06-21T01:15:39.9020000",
                    "eventType": "Update",
                    "eventCategory": "invoice",
                    "tenantId": TENANT,
                    "tenantType": "ORGANISATION",
                },
                {
                    "resourceId": "def",
                    "eventDateUtc": "2024-06-21T01:15:40Z",
                    "eventType": "ARCHIVE",
                    "eventCategory": "PREPAYMENT",
                    "tenantId": TENANT.upper(),
                },
                {"resourceId": "xyz", "eventCategory": "INVOICE", "tenantId": "someone-else"},
            ],
            "firstEventSequence": 0,
            "lastEventSequence": 2,
            "entropy": "X",
        }
    ).encode()
    delivery = rig.service.parse_webhook(body, _signed(body))
    first, second = delivery.events
    assert (first.category, first.event_type, first.resource_id) == (
        EventCategory.INVOICE,
        EventType.UPDATE,
        "abc",
    )
    assert first.occurred_at == datetime(2024, 6, 21, 1, 15, 39, 902000, tzinfo=UTC)
    assert first.resource_url == "https://api.xero.com/api.xro/2.0/Invoices/abc"
    assert (second.category, second.event_type) == (EventCategory.OTHER, EventType.OTHER)
    assert second.occurred_at.tzinfo is not None
    assert delivery.invoice_ids == ("abc",)
    assert (delivery.first_sequence, delivery.last_sequence) == (0, 2)


def test_without_a_tenant_id_every_event_is_kept(make_rig) -> None:
    rig = make_rig(tenant_id=None)
    body = json.dumps(
        {
            "events": [
                {
                    "resourceId": "a",
                    "eventCategory": "INVOICE",
                    "eventType": "UPDATE",
                    "eventDateUtc": "2026-01-01T00:00:00",
                    "tenantId": "other",
                }
            ],
            "firstEventSequence": 1,
            "lastEventSequence": 1,
            "entropy": "E",
        }
    ).encode()
    assert rig.service.parse_webhook(body, _signed(body)).invoice_ids == ("a",)


def test_a_signed_body_that_is_not_a_delivery_is_acknowledged(rig: Rig) -> None:
    for body in (b"not json", b"[1, 2]", b'{"events": [{"eventCategory": "INVOICE"}]}'):
        response = rig.service.handle_webhook(body, _signed(body))
        assert (response.status, response.delivery) == (200, None)
        assert response.reason


def test_a_payment_reaches_a_listener_once(rig: Rig, membership) -> None:
    listener = Listener()
    rig.service.add_listener(listener)
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.driver.take_webhook_deliveries()  # the create's own events
    rig.emulator.clock.advance(60)
    rig.driver.record_payment(invoice.provider_id, invoice.total)
    deliveries = rig.driver.take_webhook_deliveries()
    assert deliveries
    for delivery in deliveries + deliveries[::-1]:  # duplicated and reordered
        response = rig.service.handle_webhook(delivery.body, delivery.headers)
        assert response.status == 200
        assert response.delivery is not None
        rig.service.process_webhook(response.delivery)
    assert [(c.kind, c.invoice.provider_id) for c in listener.changes] == [
        (ChangeKind.PAID, invoice.provider_id)
    ]
    assert listener.changes[0].previous_status is InvoiceStatus.OPEN


def test_a_stale_event_never_moves_an_invoice_back_from_paid(rig: Rig, membership) -> None:
    listener = Listener()
    rig.service.add_listener(listener)
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.emulator.clock.advance(60)
    rig.driver.record_payment(invoice.provider_id, Decimal("38.00"))
    partly = rig.driver.take_webhook_deliveries()
    rig.emulator.clock.advance(60)
    rig.driver.record_payment(invoice.provider_id, Decimal("100.00"))
    paid = rig.driver.take_webhook_deliveries()
    for delivery in paid + partly:  # the older delivery arrives last
        response = rig.service.handle_webhook(delivery.body, delivery.headers)
        assert response.delivery is not None
        rig.service.process_webhook(response.delivery)
    assert [change.kind for change in listener.changes] == [ChangeKind.PAID]
    assert rig.service.sync_invoices([invoice.provider_id]) == []


def test_a_void_reaches_listeners(rig: Rig, membership) -> None:
    listener = Listener()
    rig.service.add_listener(listener)
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.emulator.clock.advance(1)
    rig.service.void_invoice(invoice.provider_id)
    assert [change.kind for change in listener.changes] == [ChangeKind.VOIDED]


def test_the_changed_since_sync_is_a_safety_net(rig: Rig, membership) -> None:
    listener = Listener()
    rig.service.add_listener(listener)
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    since = rig.emulator.clock.now()
    rig.emulator.clock.advance(5)
    rig.driver.record_payment(invoice.provider_id, invoice.total)
    changes = rig.service.sync_changed_since(since)
    assert [change.kind for change in changes] == [ChangeKind.PAID]
    assert rig.service.sync_changed_since(since) == []
