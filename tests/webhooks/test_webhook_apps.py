"""The WSGI and ASGI webhook apps over real HTTP on loopback (each test runs on both)."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest
from webhook_servers import Stack, paid_delivery

from ams_billing import ChangeKind, Contact, InvoiceChange, InvoiceRequest, LineItem, hookimpl
from ams_billing.core.errors import WebhookVerificationError
from ams_billing.core.inbox import InMemoryWebhookInbox
from ams_billing.testing.fake import FakeDriver


def make_paid_invoice(stack: Stack) -> str:
    invoice = stack.service.create_invoice(
        InvoiceRequest(
            contact=Contact("acct-1", "Ada", "ada@example.org"),
            line_items=[LineItem("Membership", 1, "50.00")],
            currency="NZD",
            issue_date=date(2026, 7, 1),
            due_date=date(2026, 7, 31),
        ),
        idempotency_key="i-1",
    )
    FakeDriver(stack.fake).take_webhook_deliveries()
    FakeDriver(stack.fake).record_payment(invoice.provider_id, invoice.total)
    return invoice.provider_id


def test_a_signed_delivery_gets_an_empty_200_then_the_membership_is_paid(stack: Stack) -> None:
    invoice_id = make_paid_invoice(stack)
    (delivery,) = FakeDriver(stack.fake).take_webhook_deliveries()
    response = httpx.post(stack.url, content=delivery.body, headers=dict(delivery.headers))
    assert response.status_code == 200
    assert response.content == b""
    assert "set-cookie" not in response.headers
    assert stack.processor.drain(5)
    assert [(c.invoice.provider_id, c.kind) for c in stack.recorder.changes] == [
        (invoice_id, ChangeKind.PAID)
    ]


def test_intent_to_receive_200_for_good_401_for_bad(stack: Stack) -> None:
    body = b'{"events":[],"first_sequence":0,"last_sequence":0,"tenant_id":"fake-tenant"}'
    good = FakeDriver(stack.fake).sign_delivery(body)
    assert httpx.post(stack.url, content=body, headers=dict(good.headers)).status_code == 200
    bad_headers = {**good.headers, "x-fake-signature": "Zm9yZ2Vk"}
    for headers in (bad_headers, {"content-type": "application/json"}):
        response = httpx.post(stack.url, content=body, headers=headers)
        assert (response.status_code, response.content) == (401, b"")


def test_a_forged_delivery_changes_nothing(stack: Stack) -> None:
    make_paid_invoice(stack)
    (delivery,) = FakeDriver(stack.fake).take_webhook_deliveries()
    forged = delivery.body.replace(b'"UPDATE"', b'"CREATE"')
    response = httpx.post(stack.url, content=forged, headers=dict(delivery.headers))
    assert response.status_code == 401
    assert stack.processor.drain(5)
    assert stack.recorder.changes == []


def test_other_methods_paths_and_oversized_bodies(stack: Stack) -> None:
    assert httpx.get(stack.url).status_code == 405
    assert httpx.post(stack.url.replace("webhooks", "hooks"), content=b"{}").status_code == 404
    too_big = b"x" * (64 * 1024 + 1)
    assert httpx.post(stack.url, content=too_big).status_code == 413


def test_duplicated_concurrent_deliveries_notify_once(stack: Stack) -> None:
    make_paid_invoice(stack)
    (delivery,) = FakeDriver(stack.fake).take_webhook_deliveries()
    with httpx.Client() as client, ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    client.post(
                        stack.url, content=delivery.body, headers=dict(delivery.headers)
                    ).status_code
                ),
                range(40),
            )
        )
    assert statuses == [200] * 40
    assert stack.processor.drain(10)
    assert [change.kind for change in stack.recorder.changes] == [ChangeKind.PAID]
    assert stack.processor.processed == 40
    assert stack.service.get_invoice(stack.recorder.changes[0].invoice.provider_id).amount_due == (
        Decimal("0.00")
    )


def test_a_failing_listener_does_not_stop_the_background_worker(stack: Stack) -> None:
    calls: list[str] = []

    class Broken:
        @hookimpl
        def invoice_changed(self, change: InvoiceChange) -> None:
            calls.append(change.invoice.provider_id)
            if len(calls) == 1:
                raise RuntimeError("listener bug")

    stack.service.add_listener(Broken())
    make_paid_invoice(stack)
    (delivery,) = FakeDriver(stack.fake).take_webhook_deliveries()
    for _ in range(2):
        assert (
            httpx.post(stack.url, content=delivery.body, headers=dict(delivery.headers)).status_code
            == 200
        )
        assert stack.processor.drain(5)
    assert stack.processor.failed == 1
    assert len(calls) == 2, "the change is told again after the listener failed"
    assert [change.kind for change in stack.recorder.changes] == [ChangeKind.PAID]


def test_deliveries_that_queue_up_are_read_together() -> None:
    import threading

    from ams_billing import BillingService
    from ams_billing.core.webhooks import BackgroundProcessor
    from ams_billing.providers.fake import FakeProvider

    fake = FakeProvider()
    gate = threading.Event()

    class SlowLedger:
        @hookimpl
        def invoice_changed(self, change: InvoiceChange) -> None:
            gate.wait(5)  # holds the worker while more deliveries queue up

    service = BillingService(fake, listeners=[SlowLedger()], inbox=InMemoryWebhookInbox())
    processor = BackgroundProcessor(service)
    deliveries = []
    for n in range(20):
        _, signed = paid_delivery(fake, service, n)
        deliveries.append(service.handle_webhook(signed.body, signed.headers).delivery)
    fake.calls.clear()
    try:
        for delivery in deliveries:
            assert delivery is not None
            assert processor.submit(delivery)
        gate.set()
        assert processor.drain(10)
    finally:
        processor.close()
    assert processor.processed == 20
    # The worker may take the first delivery alone before the rest are queued: two reads at
    # most, where one read per delivery would be twenty.
    assert fake.calls.count("get_invoices") <= 2


def _raw_post(url: str, body: bytes, header_lines: list[str]) -> int:
    """POST over a plain socket, header lines exactly as given (httpx would normalise them)."""
    parts = urlsplit(url)
    head = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *header_lines,
    ]
    assert parts.hostname is not None
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        received = b""
        while chunk := conn.recv(4096):
            received += chunk
    return int(received.split(b" ", 2)[1])


def test_whitespace_around_the_signature_header_is_stripped_by_http(stack: Stack) -> None:
    # The optional whitespace around a header value is not part of it (RFC 9110 5.5): the
    # server strips it, so a genuine delivery sent with some still verifies, although
    # parse_webhook compares the value it is given exactly.
    invoice_id = make_paid_invoice(stack)
    (delivery,) = FakeDriver(stack.fake).take_webhook_deliveries()
    signature = delivery.headers["x-fake-signature"]
    padded = f"x-fake-signature: \t {signature} \t"
    status = _raw_post(stack.url, delivery.body, ["Content-Type: application/json", padded])
    assert status == 200
    assert stack.processor.drain(5)
    assert [(c.invoice.provider_id, c.kind) for c in stack.recorder.changes] == [
        (invoice_id, ChangeKind.PAID)
    ]
    with pytest.raises(WebhookVerificationError):
        stack.service.parse_webhook(delivery.body, {"x-fake-signature": f" {signature}"})
