"""The provider over real HTTP to the emulator served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from ams_billing import ChangeKind, InvoiceChange, ProviderUnavailableError, hookimpl
from ams_billing.contracts import ContractHarness
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    FaultKind,
    FaultRule,
    XeroEmulator,
    serve_emulator,
)
from ams_billing.emulators.xero.harness import XeroTestDriver, loopback_harness
from ams_billing.emulators.xero.live import live_harness
from ams_billing.providers.xero import XeroProvider


class Listener:
    def __init__(self) -> None:
        self.kinds: list[ChangeKind] = []

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        self.kinds.append(change.kind)


@pytest.fixture
def harness() -> Iterator[ContractHarness]:
    harness = loopback_harness()
    try:
        yield harness
    finally:
        harness.close()


def test_the_whole_flow_over_http(harness: ContractHarness, membership) -> None:
    listener = Listener()
    service = harness.service
    service.add_listener(listener)
    invoice = service.create_invoice(membership, idempotency_key="invoice:1")
    assert service.get_invoice_url(invoice.provider_id).startswith("https://in.xero.com/")
    assert service.send_invoice(invoice).sent
    harness.driver.record_payment(invoice.provider_id, invoice.total)
    for delivery in harness.driver.take_webhook_deliveries():
        response = service.handle_webhook(delivery.body, delivery.headers)
        assert response.status == 200
        assert response.delivery is not None
        service.process_webhook(response.delivery)
    assert listener.kinds == [ChangeKind.PAID]
    driver = harness.driver
    assert isinstance(driver, XeroTestDriver)
    assert driver.transport.requests[0].path == "/connect/token"


def test_a_connection_cut_after_the_create_makes_no_duplicate(
    harness: ContractHarness, membership
) -> None:
    driver = harness.driver
    assert isinstance(driver, XeroTestDriver)
    driver.emulator.add_fault(FaultRule(FaultKind.DROP_AFTER, method="PUT", count=1))
    invoice = harness.service.create_invoice(membership, idempotency_key="invoice:1")
    (held,) = driver.emulator.books().invoices
    assert held["InvoiceID"] == invoice.provider_id


def test_a_server_that_is_gone_is_unavailable(membership) -> None:
    harness = loopback_harness()
    driver = harness.driver
    assert isinstance(driver, XeroTestDriver)
    harness.service.create_contact(membership.contact, idempotency_key="contact:1")
    harness.close()  # the server stops; the provider's client is closed too
    provider = harness.service.provider
    assert isinstance(provider, XeroProvider)
    with (
        XeroProvider(
            provider.settings,
            clock=driver.emulator.clock.elapsed,
            sleep=driver.emulator.clock.sleep,
        ) as orphan,
        pytest.raises(ProviderUnavailableError, match="could not reach Xero"),
    ):
        orphan.get_invoices(["00000000-0000-4000-8000-000000000000"])


def test_the_live_driver_pays_announces_and_cleans_up(membership) -> None:
    emulator = XeroEmulator(EmulatorConfig(), clock=EmulatorClock.real())
    with serve_emulator(emulator) as server:
        config = emulator.config
        environ = {
            "XERO_CLIENT_ID": config.client_id,
            "XERO_CLIENT_SECRET": config.client_secret,
            "XERO_WEBHOOK_KEY": config.webhook_key,
            "XERO_TENANT_ID": config.tenant_id,
            "XERO_ACCOUNT_CODE": "200",
            "XERO_AMOUNT_TYPE": "EXCLUSIVE",
            "XERO_CURRENCY_CODE": "NZD",
            "XERO_API_URL": server.base_url,
            "XERO_IDENTITY_URL": server.base_url,
        }
        harness = live_harness(environ)
        listener = Listener()
        harness.service.add_listener(listener)
        try:
            invoice = harness.service.create_invoice(membership, idempotency_key="invoice:1")
            harness.driver.record_payment(invoice.provider_id, Decimal("38.00"))
            for delivery in harness.driver.take_webhook_deliveries():
                response = harness.service.handle_webhook(delivery.body, delivery.headers)
                assert response.delivery is not None
                harness.service.process_webhook(response.delivery)
            assert listener.kinds == [ChangeKind.PARTIALLY_PAID]
        finally:
            harness.close()
        books = emulator.books()
        assert [i["Status"] for i in books.invoices] == ["VOIDED"]
        assert [p["Status"] for p in books.payments] == ["DELETED"]
        assert [c["ContactStatus"] for c in books.contacts] == ["ARCHIVED"]
