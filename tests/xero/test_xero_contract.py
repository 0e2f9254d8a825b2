"""The shared provider contract, run against the Xero provider and the Xero emulator twice:
through the emulator's in-process transport, and over real HTTP on loopback."""

from __future__ import annotations

from ams_billing.contracts import (
    ContractHarness,
    DraftMaker,
    EmailCounter,
    FaultInjector,
    ProviderContract,
    WebhookSigner,
)
from ams_billing.contracts.builders import invoice_request
from ams_billing.core.models import InvoiceStatus
from ams_billing.emulators.xero.harness import XeroTestDriver, in_process_harness, loopback_harness


class TestXeroInProcess(ProviderContract):
    """Every contract test, with the emulator answering in-process."""

    def make_harness(self) -> ContractHarness:
        return in_process_harness()


class TestXeroLoopback(ProviderContract):
    """Every contract test, with the emulator served on 127.0.0.1 and real HTTP in between."""

    def make_harness(self) -> ContractHarness:
        return loopback_harness()


def test_the_harness_offers_every_optional_driver_method() -> None:
    # Without them ~18 contract tests skip for Xero and hold it to nothing.
    harness = in_process_harness()
    try:
        for protocol in (FaultInjector, EmailCounter, WebhookSigner, DraftMaker):
            assert isinstance(harness.driver, protocol), protocol.__name__
        assert harness.other_currencies == ("AUD", "USD")
    finally:
        harness.close()


def test_a_draft_is_made_in_the_books_without_the_provider() -> None:
    harness = in_process_harness()
    try:
        driver = harness.driver
        assert isinstance(driver, XeroTestDriver)
        draft = driver.create_draft_invoice(invoice_request(harness))
        assert draft.status is InvoiceStatus.DRAFT
        assert driver.transport.api_requests() == []  # not one request through the provider
        books = driver.emulator.books()
        (held,) = [i for i in books.invoices if i["InvoiceID"] == draft.provider_id]
        assert held["Status"] == "DRAFT"
        assert driver.count_emails_sent(draft.provider_id) == 0
    finally:
        harness.close()
