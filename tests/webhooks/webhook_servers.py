"""Real HTTP servers on loopback for the webhook apps: wsgiref for WSGI, uvicorn for ASGI."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import uvicorn

from ams_billing import (
    BillingService,
    Contact,
    InvoiceChange,
    InvoiceRequest,
    LineItem,
    hookimpl,
)
from ams_billing.contracts import SignedDelivery
from ams_billing.contrib.webhooks import (
    BackgroundProcessor,
    WebhookASGIApp,
    WebhookEndpoint,
    WebhookWSGIApp,
)
from ams_billing.contrib.webhooks.server import serve_wsgi
from ams_billing.providers.fake import FakeBillingService


class Recorder:
    def __init__(self) -> None:
        self.changes: list[InvoiceChange] = []

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        self.changes.append(change)


class Stack:
    def __init__(self) -> None:
        self.fake = FakeBillingService(webhook_key="stack-key")
        self.recorder = Recorder()
        self.service = BillingService(self.fake, listeners=[self.recorder])
        self.processor = BackgroundProcessor(self.service)
        self.endpoint = WebhookEndpoint(
            self.service, on_delivery=self.processor.submit, max_body_bytes=64 * 1024
        )
        self.url = ""


@contextmanager
def serve_wsgi_stack(stack: Stack, **options: float) -> Iterator[str]:
    with serve_wsgi(WebhookWSGIApp(stack.endpoint), **options) as base_url:
        yield base_url


@contextmanager
def serve_asgi_stack(stack: Stack, **options: float) -> Iterator[str]:
    config = uvicorn.Config(
        WebhookASGIApp(stack.endpoint, **options), host="127.0.0.1", port=0, log_level="warning",
        lifespan="on",
    )  # fmt: skip
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        loop.close()


def paid_delivery(
    fake: FakeBillingService, service: BillingService, n: int
) -> tuple[str, SignedDelivery]:
    """Create member n's invoice, pay it in the fake, and return its id and signed webhook."""
    invoice = service.create_invoice(
        InvoiceRequest(
            contact=Contact(f"acct-{n}", "Member"),
            line_items=[LineItem("Membership", 1, "10.00")],
            currency="NZD",
            issue_date=date(2026, 7, 1),
            due_date=date(2026, 7, 31),
        ),
        idempotency_key=f"i-{n}",
    )
    fake.take_webhook_deliveries()
    fake.record_payment(invoice.provider_id, invoice.total)
    (signed,) = fake.take_webhook_deliveries()
    return invoice.provider_id, signed
