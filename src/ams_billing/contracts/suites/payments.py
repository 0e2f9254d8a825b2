"""Contract: payments recorded through the driver, and voiding, move invoices as Xero does."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ams_billing.contracts.builders import unpaid_invoice
from ams_billing.contracts.capabilities import require_capability
from ams_billing.contracts.case import ContractCase
from ams_billing.contracts.checks import RecordingListener, money
from ams_billing.core.errors import InvalidStateError, NotFoundError
from ams_billing.core.models import Capability, InvoiceStatus
from ams_billing.testing.harness import ContractHarness

__all__ = ["PaymentContract"]


class PaymentContract(ContractCase):
    """Partial and full payments, and ``void_invoice``."""

    def test_partial_payment_keeps_the_invoice_authorised(self, harness: ContractHarness) -> None:
        invoice = unpaid_invoice(harness)
        part = money(invoice.total / 3, invoice.currency)
        harness.driver.record_payment(invoice.provider_id, part)
        read = harness.service.get_invoice(invoice.provider_id)
        assert read.status is InvoiceStatus.OPEN
        assert (read.amount_paid, read.amount_due) == (part, invoice.total - part)
        assert read.total == invoice.total
        assert read.fully_paid_on is None
        assert read.is_partially_paid
        assert read.updated_at >= invoice.updated_at

    def test_full_payment_makes_the_invoice_paid(self, harness: ContractHarness) -> None:
        invoice = unpaid_invoice(harness)
        part = money(invoice.total / 3, invoice.currency)
        harness.driver.record_payment(invoice.provider_id, part)
        harness.driver.record_payment(invoice.provider_id, invoice.total - part)
        read = harness.service.get_invoice(invoice.provider_id)
        assert read.status is InvoiceStatus.PAID
        assert (read.amount_paid, read.amount_due) == (invoice.total, Decimal(0))
        assert read.fully_paid_on is not None

    def test_void_without_payments_voids(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.VOID_INVOICE)
        listener = RecordingListener()
        harness.service.add_listener(listener)
        invoice = unpaid_invoice(harness)
        voided = harness.service.void_invoice(invoice.provider_id)
        assert (voided.provider_id, voided.status) == (invoice.provider_id, InvoiceStatus.VOID)
        assert harness.service.get_invoice(invoice.provider_id).status is InvoiceStatus.VOID
        assert listener.kinds_for(invoice.provider_id) == ["voided"]

    def test_void_twice_changes_nothing(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.VOID_INVOICE)
        invoice = unpaid_invoice(harness)
        harness.service.void_invoice(invoice.provider_id)
        again = harness.service.void_invoice(invoice.provider_id)
        assert again.status is InvoiceStatus.VOID

    def test_void_with_a_payment_is_refused(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.VOID_INVOICE)
        invoice = unpaid_invoice(harness)
        harness.driver.record_payment(
            invoice.provider_id, money(invoice.total / 2, invoice.currency)
        )
        with pytest.raises(InvalidStateError):
            harness.service.void_invoice(invoice.provider_id)
        assert harness.service.get_invoice(invoice.provider_id).status is InvoiceStatus.OPEN

    def test_void_of_a_paid_invoice_is_refused(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.VOID_INVOICE)
        invoice = unpaid_invoice(harness)
        harness.driver.record_payment(invoice.provider_id, invoice.total)
        with pytest.raises(InvalidStateError):
            harness.service.void_invoice(invoice.provider_id)
        assert harness.service.get_invoice(invoice.provider_id).status is InvoiceStatus.PAID

    def test_void_of_an_unknown_invoice_raises_not_found(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.VOID_INVOICE)
        unknown = "00000000-0000-4000-8000-00000000dead"
        with pytest.raises(NotFoundError) as raised:
            harness.service.void_invoice(unknown)
        assert raised.value.resource_id == unknown
