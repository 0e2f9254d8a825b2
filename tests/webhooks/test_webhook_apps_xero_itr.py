"""Xero's Intent-to-Receive, sent by the emulator over HTTP, against the WSGI and ASGI apps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from webhook_servers import serve_asgi_stack, serve_wsgi_stack

from ams_billing import BillingService
from ams_billing.contrib.webhooks import WebhookEndpoint
from ams_billing.emulators.xero import EmulatorClock, EmulatorConfig, XeroEmulator
from ams_billing.providers.xero import XeroProvider, XeroSettings


class XeroStack:
    def __init__(self, emulator: XeroEmulator) -> None:
        config = emulator.config
        self.provider = XeroProvider(
            XeroSettings(
                client_id=config.client_id,
                client_secret=config.client_secret,
                webhook_key=config.webhook_key,
                tenant_id=config.tenant_id,
                account_code="200",
                currency_code="NZD",
                api_url="https://emulator.invalid",
                identity_url="https://emulator.invalid",
            ),
            transport=emulator.transport(),
        )
        self.endpoint = WebhookEndpoint(BillingService(self.provider))


@pytest.fixture
def emulator() -> XeroEmulator:
    return XeroEmulator(EmulatorConfig(), clock=EmulatorClock.virtual())


@pytest.mark.parametrize("serve", [serve_wsgi_stack, serve_asgi_stack], ids=["wsgi", "asgi"])
def test_the_endpoint_passes_intent_to_receive(
    emulator: XeroEmulator, serve: Callable[..., AbstractContextManager[str]]
) -> None:
    stack = XeroStack(emulator)
    try:
        with serve(stack) as base_url:
            report = emulator.intent_to_receive(f"{base_url}/billing/xero/webhooks/")
    finally:
        stack.provider.close()
    assert report.passed, report.checks
    assert {(check.correctly_signed, check.status) for check in report.checks} == {
        (True, 200),
        (False, 401),
    }


def test_an_endpoint_that_accepts_everything_fails_it(emulator: XeroEmulator) -> None:
    from ams_billing.contrib.webhooks.server import serve_wsgi

    def yes_to_everything(
        environ: dict[str, object], start_response: Callable[..., object]
    ) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", "0")])
        return iter([b""])

    with serve_wsgi(yes_to_everything) as base_url:
        report = emulator.intent_to_receive(f"{base_url}/billing/xero/webhooks/")
    assert not report.passed
