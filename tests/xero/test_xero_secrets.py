"""Secrets never leak: not into logs (at DEBUG, every logger), reprs or error messages."""

from __future__ import annotations

import json
import logging

import attrs
import httpx
import pytest

from ams_billing import (
    AuthenticationError,
    BillingService,
    ConfigurationError,
    ValidationError,
    WebhookVerificationError,
)
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    FaultKind,
    FaultRule,
    XeroEmulator,
)
from ams_billing.emulators.xero.harness import (
    EMULATOR_BASE_URL,
    TestTransport,
    XeroTestDriver,
    emulator_settings,
    loopback_harness,
)
from ams_billing.providers.xero import XeroProvider, XeroSettings

CLIENT_SECRET = "Sup3rSecretClientSecretValue"
WEBHOOK_KEY = "Sup3rSecretWebhookKeyValue"


class TokenSpy(httpx.BaseTransport):
    """Forwards to the emulator and keeps every access token it hands out."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.tokens: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == "/connect/token" and response.status_code == 200:
            response.read()
            self.tokens.append(json.loads(response.content)["access_token"])
        return response


def test_no_secret_reaches_a_log_a_repr_or_an_error(
    membership, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator = XeroEmulator(
        EmulatorConfig(client_secret=CLIENT_SECRET, webhook_key=WEBHOOK_KEY),
        clock=EmulatorClock.virtual(),
    )
    spy = TokenSpy(emulator.transport())
    transport = TestTransport(spy)
    settings = emulator_settings(emulator, EMULATOR_BASE_URL)
    clock, sleep = emulator.clock.elapsed, emulator.clock.sleep
    provider = XeroProvider(settings, transport=transport, clock=clock, sleep=sleep)
    driver = XeroTestDriver(emulator, transport)
    service = BillingService(provider)
    errors: list[BaseException] = []
    try:
        invoice = service.create_invoice(membership, idempotency_key="invoice:1")
        service.send_invoice(invoice)
        service.get_invoice_url(invoice.provider_id)
        driver.record_payment(invoice.provider_id, invoice.total)
        for delivery in driver.take_webhook_deliveries():
            response = service.handle_webhook(delivery.body, delivery.headers)
            assert response.delivery is not None
            service.process_webhook(response.delivery)
            with pytest.raises(WebhookVerificationError) as refused:
                service.parse_webhook(delivery.body, {**delivery.headers, "x-xero-signature": "A"})
            errors.append(refused.value)
        emulator.add_fault(FaultRule(FaultKind.SERVER_ERROR, method="GET", count=1))
        service.get_invoices([invoice.provider_id])
        emulator.clock.advance(1800)  # expired: a second token is minted
        service.get_invoices([invoice.provider_id])
        with pytest.raises(ValidationError) as refused_request:
            service.create_invoice(attrs.evolve(membership, currency="AUD"), idempotency_key="2")
        errors.append(refused_request.value)
        with (
            XeroProvider(
                attrs.evolve(settings, client_secret=CLIENT_SECRET + "-old"),
                transport=transport,
                clock=clock,
                sleep=sleep,
            ) as wrong,
            pytest.raises(AuthenticationError) as bad_credentials,
        ):
            wrong.get_invoices([invoice.provider_id])
        errors.append(bad_credentials.value)
        with pytest.raises(ConfigurationError) as bad_settings:
            XeroSettings(
                client_id="",
                client_secret=CLIENT_SECRET,
                webhook_key=WEBHOOK_KEY,
                account_code="200",
                currency_code="nzd",
            )
        errors.append(bad_settings.value)
        shown = [
            repr(provider),
            repr(settings),
            str(settings),
            repr(provider.http),
            repr(provider.http.tokens),
            repr(service),
            repr(driver),
            repr(transport.requests),
        ]
    finally:
        provider.close()

    assert len(spy.tokens) == 2
    secrets = [CLIENT_SECRET, WEBHOOK_KEY, *spy.tokens]
    logged = [record.getMessage() for record in caplog.records]
    assert any("Xero-Correlation-Id" in line for line in logged)  # the logs were captured
    assert any(record.name == "httpx" for record in caplog.records)
    texts = logged + [f"{e!r} {e}" for e in errors] + shown
    leaks = [(secret[:4], text) for text in texts for secret in secrets if secret in text]
    assert leaks == []


def test_nothing_secret_is_logged_over_real_http(
    membership, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpcore logs every exchange at DEBUG
    config = EmulatorConfig(client_secret=CLIENT_SECRET, webhook_key=WEBHOOK_KEY)
    harness = loopback_harness(config)
    try:
        invoice = harness.service.create_invoice(membership, idempotency_key="invoice:1")
        harness.service.send_invoice(invoice)
    finally:
        harness.close()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "httpcore" in {record.name.split(".")[0] for record in caplog.records}
    for needle in (CLIENT_SECRET, WEBHOOK_KEY, "Bearer ", "Basic ", "authorization"):
        assert needle.lower() not in logged.lower()
