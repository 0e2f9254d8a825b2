"""The demo's default environment: the Xero provider against the emulator, over real HTTP.

The emulator serves Xero's identity and accounting APIs on a loopback port; the real
:class:`~ams_billing.providers.xero.XeroProvider` talks to it; the AMS's webhook endpoint
(the WSGI app) listens on another loopback port, and the emulator delivers signed webhooks to
it, after checking it with Xero's Intent-to-Receive.

The service is built as an AMS builds it, with :func:`~ams_billing.assembly.loading.load_service`,
so its state is durable; but in a throwaway SQLite file of the demo's own, never the default
database: each run starts a fresh emulator, and a ledger kept from an earlier run would replay
ids this emulator never issued.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path

import attrs

from ams_billing.assembly.loading import load_service
from ams_billing.cli.demo.flow import DemoEnvironment
from ams_billing.contrib.webhooks.request import WebhookEndpoint
from ams_billing.contrib.webhooks.server import serve_wsgi
from ams_billing.contrib.webhooks.wsgi import WebhookWSGIApp
from ams_billing.core.models import WebhookDelivery
from ams_billing.core.service import WebhookResponse
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    XeroEmulator,
    provider_environment,
    serve_emulator,
)
from ams_billing.testing.harness import SignedDelivery

__all__ = ["WEBHOOK_PATH", "emulator_environment"]

WEBHOOK_PATH = "/billing/xero/webhooks/"


@attrs.define
class _EmulatorDriver:
    """The member paying in Xero, and Xero calling the AMS back."""

    emulator: XeroEmulator

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        self.emulator.record_payment(invoice_id, amount)

    def take_webhook_deliveries(self) -> list[SignedDelivery]:
        return []  # deliveries travel over HTTP; see _Exchange


@attrs.define
class _Exchange:
    """Makes the emulator deliver over HTTP and pairs each answer with what was verified."""

    emulator: XeroEmulator
    received: list[WebhookDelivery] = attrs.field(factory=list)

    def __call__(self) -> list[WebhookResponse]:
        answers = []
        for result in self.emulator.deliver_webhooks(force=True):
            delivery = self.received.pop(0) if result.ok and self.received else None
            answers.append(WebhookResponse(status=result.status or 0, delivery=delivery))
        return answers


@contextmanager
def emulator_environment(*, demo_company: bool = False) -> Iterator[DemoEnvironment]:
    """Start the emulator and a webhook receiver on loopback; stop both afterwards.

    The billing state lives in a temporary directory, deleted with everything else.
    """
    config = EmulatorConfig(is_demo_company=demo_company)
    emulator = XeroEmulator(config, clock=EmulatorClock.real())
    with ExitStack() as stack:
        server = stack.enter_context(serve_emulator(emulator))
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="ams-billing-demo-"))
        database = Path(folder) / "demo.sqlite3"
        environ = provider_environment(
            config, server.base_url, database_url=f"sqlite:///{database}"
        )
        service = stack.enter_context(load_service(environ=environ))
        exchange = _Exchange(emulator)
        endpoint = WebhookEndpoint(service, on_delivery=exchange.received.append)
        receiver = stack.enter_context(serve_wsgi(WebhookWSGIApp(endpoint)))
        url = receiver + WEBHOOK_PATH
        emulator.set_webhook_target(url)

        def preflight() -> tuple[bool, str]:
            report = emulator.intent_to_receive(url)
            verdict = "passed" if report.passed else "FAILED"
            return report.passed, f"Intent-to-Receive {verdict} at {url}"

        yield DemoEnvironment(
            service=service,
            driver=_EmulatorDriver(emulator),
            exchange_webhooks=exchange,
            description=(
                f"the Xero emulator at {server.base_url}, through the Xero provider; billing "
                f"state in a throwaway SQLite file, {database}, deleted afterwards (every run "
                "starts a fresh emulator)"
            ),
            currency=config.base_currency,
            preflight=preflight,
        )
