"""Deliveries go through the inbox: kept before the 200, done only after the listeners."""

from __future__ import annotations

import httpx
import pytest
from webhook_servers import Stack, paid_delivery, serve_asgi_stack, serve_wsgi_stack

from ams_billing import (
    BillingService,
    ChangeKind,
    ConfigurationError,
    InvoiceChange,
    hookimpl,
)
from ams_billing.core.inbox import InMemoryWebhookInbox
from ams_billing.core.webhooks import BackgroundProcessor, drain_inbox
from ams_billing.providers.fake import FakeProvider
from ams_billing.stores import SqlWebhookInbox, open_stores


def test_an_acknowledged_delivery_is_in_the_inbox_before_the_answer(stack: Stack) -> None:
    stack.processor.close()  # no worker: what the 200 promises must already be kept
    stack.processor.inbox = inbox = InMemoryWebhookInbox()
    stack.processor._ensure_started = lambda: None  # type: ignore[method-assign]
    _, signed = paid_delivery(stack.fake, stack.service, 1)
    response = httpx.post(stack.url, content=signed.body, headers=dict(signed.headers))
    assert response.status_code == 200
    assert inbox.pending() == 1
    assert stack.recorder.changes == []


def test_what_a_dead_worker_left_is_drained_by_the_next_one() -> None:
    fake = FakeProvider()
    told: list[InvoiceChange] = []

    class Listener:
        @hookimpl
        def invoice_changed(self, change: InvoiceChange) -> None:
            told.append(change)

    service = BillingService(fake, listeners=[Listener()])
    inbox = InMemoryWebhookInbox()
    ids = []
    for n in range(30):
        invoice_id, signed = paid_delivery(fake, service, n)
        ids.append(invoice_id)
        delivery = service.handle_webhook(signed.body, signed.headers).delivery
        assert delivery is not None
        inbox.add(delivery)
    inbox.claim(10, lease_seconds=0)  # a worker took ten, then died: its lease runs out

    result = drain_inbox(service, inbox, batch=7)

    assert (result.processed, result.failed, inbox.pending()) == (30, 0, 0)
    assert sorted(c.invoice.provider_id for c in told if c.kind is ChangeKind.PAID) == sorted(ids)


def test_a_failed_batch_stays_in_the_inbox_and_is_told_again() -> None:
    fake = FakeProvider()
    calls: list[str] = []

    class FailsOnce:
        @hookimpl
        def invoice_changed(self, change: InvoiceChange) -> None:
            calls.append(change.invoice.provider_id)
            if len(calls) == 1:
                raise RuntimeError("the AMS's database was away")

    service = BillingService(fake, listeners=[FailsOnce()])
    inbox = InMemoryWebhookInbox()
    invoice_id, signed = paid_delivery(fake, service, 1)
    delivery = service.handle_webhook(signed.body, signed.headers).delivery
    assert delivery is not None
    inbox.add(delivery)

    first = drain_inbox(service, inbox)
    assert (first.processed, first.failed, inbox.pending()) == (0, 1, 1)
    second = drain_inbox(service, inbox)
    assert (second.processed, second.failed, inbox.pending()) == (1, 0, 0)
    assert calls == [invoice_id, invoice_id]


def test_a_burst_larger_than_any_queue_loses_nothing() -> None:
    fake = FakeProvider()
    told: set[str] = set()

    class Listener:
        @hookimpl
        def invoice_changed(self, change: InvoiceChange) -> None:
            told.add(change.invoice.provider_id)

    service = BillingService(fake, listeners=[Listener()])
    processor = BackgroundProcessor(service, inbox=InMemoryWebhookInbox(), linger=0)
    ids = []
    try:
        for n in range(1500):  # the old queue held 1,000 and dropped the rest
            invoice_id, signed = paid_delivery(fake, service, n)
            ids.append(invoice_id)
            delivery = service.handle_webhook(signed.body, signed.headers).delivery
            assert delivery is not None
            assert processor.submit(delivery)
        assert processor.drain(60)
    finally:
        processor.close()
    assert told == set(ids)
    assert processor.inbox.pending() == 0


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_a_loaded_services_default_processor_keeps_deliveries_in_the_durable_inbox(
    server: str,
) -> None:
    stack = Stack(loaded=True)
    assert isinstance(stack.service.inbox, SqlWebhookInbox)
    assert stack.processor.inbox is stack.service.inbox
    serve = serve_wsgi_stack if server == "wsgi" else serve_asgi_stack
    try:
        with serve(stack) as base_url:
            invoice_id, signed = paid_delivery(stack.fake, stack.service, 1)
            stack.recorder.down = True  # the AMS cannot take the news: the delivery must wait
            answer = httpx.post(
                base_url + "/billing/xero/webhooks/",
                content=signed.body,
                headers=dict(signed.headers),
            )
            assert answer.status_code == 200
            assert stack.processor.drain(30)
    finally:
        stack.processor.close()
        stack.service.close()
    assert (stack.processor.processed, stack.processor.failed > 0) == (0, True)

    # What any other process sees, through the default database: the acknowledged delivery
    # is kept. A worker after the restart, with the AMS back, drains it.
    with open_stores() as stores:
        assert stores.inbox.pending() == 1
        stack.recorder.down = False
        restarted = BillingService(
            stack.fake,
            listeners=[stack.recorder],
            state_store=stores.invoice_state,
            inbox=stores.inbox,
        )
        result = drain_inbox(restarted)
        assert (result.processed, result.failed, stores.inbox.pending()) == (1, 0, 0)
    assert [(c.invoice.provider_id, c.kind) for c in stack.recorder.changes] == [
        (invoice_id, ChangeKind.PAID)
    ]


def test_a_service_built_directly_without_an_inbox_gets_a_memory_one_and_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="ams_billing.webhooks"):
        processor = BackgroundProcessor(BillingService(FakeProvider()))
    assert isinstance(processor.inbox, InMemoryWebhookInbox)
    assert "kept in memory" in caplog.text


def test_drain_inbox_needs_an_inbox() -> None:
    with pytest.raises(ConfigurationError, match="has no inbox"):
        drain_inbox(BillingService(FakeProvider()))
