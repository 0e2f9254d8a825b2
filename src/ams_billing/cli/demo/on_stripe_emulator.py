"""The demo on Stripe: the Stripe provider against the Stripe emulator, over real HTTP.

The emulator serves Stripe's API on a loopback port; the real
:class:`~ams_billing.providers.stripe.StripeProvider` talks to it; the AMS's webhook endpoint
(the WSGI app) listens on another loopback port, registered in the emulator as a webhook
endpoint for the events the provider needs, with its own ``whsec_`` signing secret. The
member pays out of band (as a dashboard user marks an invoice paid); the emulator delivers
each event signed for real, one event per delivery, as Stripe does.

The service is built as an AMS builds it (:func:`~ams_billing.assembly.loading.load_service`
from ``AMS_BILLING_SERVICE_CLASS=stripe`` and the ``STRIPE_*`` variables), its state in a
throwaway SQLite file (each run starts a fresh emulator).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from ams_billing.assembly.loading import load_service
from ams_billing.cli.checks.stripe_checks import NEEDED_EVENTS
from ams_billing.cli.demo.flow import DemoEnvironment
from ams_billing.contrib.webhooks.request import WebhookEndpoint
from ams_billing.contrib.webhooks.server import serve_wsgi
from ams_billing.contrib.webhooks.wsgi import WebhookWSGIApp
from ams_billing.core.models import WebhookDelivery
from ams_billing.core.service import WebhookResponse
from ams_billing.emulators.stripe import (
    EmulatorClock,
    StripeEmulator,
    StripeEmulatorConfig,
)
from ams_billing.testing.harness import SignedDelivery

__all__ = ["STRIPE_WEBHOOK_PATH", "stripe_emulator_environment"]

STRIPE_WEBHOOK_PATH = "/billing/stripe/webhooks/"
"""Where the demo's webhook endpoint answers."""

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@attrs.define
class _Later:
    """A WSGI app whose real app is set once the service exists (the secret comes first)."""

    app: WSGIApp | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None, "the demo's webhook app is not ready"
        return self.app(environ, start_response)


@attrs.define
class _StripeDriver:
    """The member paying out of band (in the Dashboard), and Stripe calling the AMS back."""

    emulator: StripeEmulator

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        del amount  # Stripe's out-of-band payment settles the whole amount due
        self.emulator.pay_invoice(invoice_id)

    def take_webhook_deliveries(self) -> list[SignedDelivery]:
        return []  # deliveries travel over HTTP; see _Exchange


@attrs.define
class _Exchange:
    """Makes the emulator deliver over HTTP and pairs each answer with what was verified."""

    emulator: StripeEmulator
    received: list[WebhookDelivery] = attrs.field(factory=list)

    def __call__(self) -> list[WebhookResponse]:
        answers = []
        for attempt in self.emulator.deliver_webhooks():
            delivery = self.received.pop(0) if attempt.ok and self.received else None
            answers.append(WebhookResponse(status=attempt.status or 0, delivery=delivery))
        return answers


@contextmanager
def stripe_emulator_environment() -> Iterator[DemoEnvironment]:
    """Start the Stripe emulator and a webhook receiver on loopback; stop both afterwards."""
    config = StripeEmulatorConfig()
    emulator = StripeEmulator(config, clock=EmulatorClock.real())
    with ExitStack() as stack:
        stack.enter_context(emulator)
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="ams-billing-demo-"))
        database = Path(folder) / "demo.sqlite3"
        later = _Later()
        receiver = stack.enter_context(serve_wsgi(later))
        url = receiver + STRIPE_WEBHOOK_PATH
        endpoint_id, secret = emulator.create_webhook_endpoint(url, NEEDED_EVENTS)
        environ = {
            "AMS_BILLING_SERVICE_CLASS": "stripe",
            "STRIPE_SECRET_KEY": config.secret_key,
            "STRIPE_WEBHOOK_SECRET": secret,
            "STRIPE_API_BASE": emulator.base_url,
            "AMS_BILLING_DATABASE_URL": f"sqlite:///{database}",
        }
        service = stack.enter_context(load_service(environ=environ))
        exchange = _Exchange(emulator)
        endpoint = WebhookEndpoint(
            service, on_delivery=exchange.received.append, path=STRIPE_WEBHOOK_PATH
        )
        later.app = WebhookWSGIApp(endpoint)

        def preflight() -> tuple[bool, str]:
            return True, (
                f"{endpoint_id} registered at {url} for {len(NEEDED_EVENTS)} events, its "
                "signing secret in STRIPE_WEBHOOK_SECRET (not shown)"
            )

        yield DemoEnvironment(
            service=service,
            driver=_StripeDriver(emulator),
            exchange_webhooks=exchange,
            description=(
                f"the Stripe emulator at {emulator.base_url}, through the Stripe provider; "
                f"billing state in a throwaway SQLite file, {database}, deleted afterwards "
                "(every run starts a fresh emulator)"
            ),
            currency="USD",
            preflight=preflight,
        )
