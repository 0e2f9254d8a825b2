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
    load_service,
)
from ams_billing.contracts import SignedDelivery
from ams_billing.contrib.webhooks import WebhookASGIApp, WebhookEndpoint, WebhookWSGIApp
from ams_billing.contrib.webhooks.server import serve_wsgi
from ams_billing.core.inbox import InMemoryWebhookInbox
from ams_billing.core.webhooks import BackgroundProcessor
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing.fake import FakeDriver

KEY = "stack-key"


class Recorder:
    """Records each change; while ``down``, fails as an AMS whose database is away would."""

    def __init__(self) -> None:
        self.changes: list[InvoiceChange] = []
        self.down = False

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        if self.down:
            raise RuntimeError("the AMS's database is away")
        self.changes.append(change)


class Stack:
    """The fake provider behind a webhook endpoint, its deliveries processed in the background.

    By default the service is built directly, its inbox in memory (chosen explicitly: these
    tests are about HTTP, not durability); ``loaded=True`` builds it as an AMS does, with
    ``load_service()`` and its default, durable state.
    """

    def __init__(self, *, loaded: bool = False) -> None:
        self.recorder = Recorder()
        if loaded:
            self.service = load_service(
                environ={"AMS_BILLING_SERVICE_CLASS": "fake", "AMS_BILLING_FAKE_WEBHOOK_KEY": KEY},
                listeners=[self.recorder],
            )
            fake = self.service.provider
            assert isinstance(fake, FakeProvider)
            self.fake = fake
        else:
            self.fake = FakeProvider(webhook_key=KEY)
            self.service = BillingService(
                self.fake, listeners=[self.recorder], inbox=InMemoryWebhookInbox()
            )
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
    fake: FakeProvider, service: BillingService, n: int
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
    FakeDriver(fake).take_webhook_deliveries()
    FakeDriver(fake).record_payment(invoice.provider_id, invoice.total)
    (signed,) = FakeDriver(fake).take_webhook_deliveries()
    return invoice.provider_id, signed
