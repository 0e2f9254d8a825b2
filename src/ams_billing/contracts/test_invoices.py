"""Contract: ``create_invoice`` raises AUTHORISED invoices with Xero's arithmetic, exactly once."""

from __future__ import annotations

import functools
from datetime import timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ams_billing.contracts import strategies
from ams_billing.contracts.builders import create_invoice, invoice_request, unique
from ams_billing.contracts.capabilities import require_capability
from ams_billing.contracts.case import EXAMPLES, CommandLineProvider, ContractCase
from ams_billing.contracts.checks import expected_totals, invoices_with_reference, money
from ams_billing.contracts.harness import ContractHarness
from ams_billing.core.errors import IdempotencyConflictError, ValidationError
from ams_billing.core.models import (
    AmountType,
    Capability,
    Invoice,
    InvoiceRequest,
    InvoiceStatus,
    LineItem,
)

__all__ = ["InvoiceContract", "check_invoice_matches_request"]


@functools.cache
def _requests(currency: str, account_code: str | None) -> st.SearchStrategy[InvoiceRequest]:
    return strategies.invoice_requests(currency=currency, account_code=account_code)


def check_invoice_matches_request(
    invoice: Invoice, request: InvoiceRequest, tax_rate: Decimal | None
) -> None:
    """Assert that a freshly created invoice is what ``request`` asked for, to the cent."""
    assert invoice.provider_id
    assert invoice.status is InvoiceStatus.AUTHORISED
    assert invoice.currency == request.currency
    assert invoice.contact.account_reference == request.contact.account_reference
    assert (invoice.issue_date, invoice.due_date) == (request.issue_date, request.due_date)
    assert invoice.reference == request.reference
    assert invoice.amount_type is request.amount_type
    assert invoice.subtotal + invoice.total_tax == invoice.total
    assert invoice.amount_paid == 0
    assert invoice.amount_due == invoice.total
    assert invoice.fully_paid_on is None
    assert len(invoice.line_items) == len(request.line_items)
    assert sum((line.tax_amount for line in invoice.line_items), Decimal(0)) == invoice.total_tax
    line_sum = sum((line.line_amount for line in invoice.line_items), Decimal(0))
    if request.amount_type is AmountType.INCLUSIVE:
        assert invoice.total == line_sum
    else:
        assert invoice.subtotal == line_sum
    # The rate does not matter for these two.
    zero_rate = expected_totals(request, Decimal(0))
    assert [line.line_amount for line in invoice.line_items] == [a for a, _ in zero_rate.lines]
    if request.amount_type is AmountType.NO_TAX:
        assert invoice.total_tax == 0
    if tax_rate is None:
        return
    expected = expected_totals(request, tax_rate)
    assert [line.tax_amount for line in invoice.line_items] == [t for _, t in expected.lines]
    assert (invoice.subtotal, invoice.total_tax, invoice.total) == (
        expected.subtotal,
        expected.total_tax,
        expected.total,
    )


class InvoiceContract(ContractCase):
    """``create_invoice``: status, totals, idempotency and refusals that name the field."""

    def test_invoice_is_authorised_with_consistent_totals(self, harness: ContractHarness) -> None:
        request = invoice_request(harness, lines=[("2", "60.00"), ("1", "19.99")])
        invoice = create_invoice(harness, request)
        check_invoice_matches_request(invoice, request, harness.tax_rate)

    @pytest.mark.parametrize("amount_type", list(AmountType), ids=lambda t: t.value)
    def test_tax_is_computed_and_rounded_per_line(
        self, harness: ContractHarness, amount_type: AmountType
    ) -> None:
        # At 15 % each 0.05 line bears 0.0075 (0.01 rounded); taxing the total gives 0.02.
        request = invoice_request(
            harness, lines=[("1", "0.05")] * 3 + [("3", "0.3333")], amount_type=amount_type
        )
        invoice = create_invoice(harness, request)
        check_invoice_matches_request(invoice, request, harness.tax_rate)

    def test_four_place_unit_amounts_round_half_up_per_line(self, harness: ContractHarness) -> None:
        request = invoice_request(harness, lines=[("1", "10.0050"), ("3", "0.0049"), ("1", "0")])
        invoice = create_invoice(harness, request)
        # 10.0050 -> 10.01 and 0.0147 -> 0.01 in a two-place currency.
        expected = [money(Decimal(a), invoice.currency) for a in ("10.0050", "0.0147", "0")]
        assert [line.line_amount for line in invoice.line_items] == expected
        check_invoice_matches_request(invoice, request, harness.tax_rate)

    def test_discount_lines_reduce_the_total(self, harness: ContractHarness) -> None:
        request = invoice_request(harness, lines=[("1", "120.00"), ("1", "-20.0000")])
        invoice = create_invoice(harness, request)
        check_invoice_matches_request(invoice, request, harness.tax_rate)
        assert invoice.line_items[1].line_amount == Decimal(-20)

    def test_retry_with_the_same_key_returns_the_same_invoice(
        self, harness: ContractHarness
    ) -> None:
        request = invoice_request(harness)
        key = unique("invoice")
        first = harness.service.create_invoice(request, idempotency_key=key)
        again = harness.service.create_invoice(request, idempotency_key=key)
        assert again.provider_id == first.provider_id
        assert (again.number, again.total, again.status) == (
            first.number,
            first.total,
            first.status,
        )

    def test_retry_with_the_same_key_creates_no_second_invoice(
        self, harness: ContractHarness
    ) -> None:
        require_capability(harness, Capability.CHANGED_SINCE)
        request = invoice_request(harness)
        key = unique("invoice")
        first = harness.service.create_invoice(request, idempotency_key=key)
        for _ in range(3):
            harness.service.create_invoice(request, idempotency_key=key)
        since = first.updated_at - timedelta(seconds=1)
        found = invoices_with_reference(harness, since, request.reference)
        assert [invoice.provider_id for invoice in found] == [first.provider_id]

    def test_same_key_for_another_request_conflicts(self, harness: ContractHarness) -> None:
        request = invoice_request(harness)
        key = unique("invoice")
        harness.service.create_invoice(request, idempotency_key=key)
        changed = attrs.evolve(
            request, line_items=[*request.line_items, LineItem("Late fee", Decimal(1), Decimal(5))]
        )
        with pytest.raises(IdempotencyConflictError) as raised:
            harness.service.create_invoice(changed, idempotency_key=key)
        assert "idempotency_key" in raised.value.fields

    def test_new_key_for_the_same_request_is_a_new_invoice(self, harness: ContractHarness) -> None:
        request = invoice_request(harness)
        first = create_invoice(harness, request)
        second = create_invoice(harness, request)
        assert second.provider_id != first.provider_id

    def test_currency_not_enabled_is_refused_naming_the_field(
        self, harness: ContractHarness
    ) -> None:
        # XXX is ISO 4217's "no currency": no organisation bills in it.
        request = invoice_request(harness, currency="XXX")
        with pytest.raises(ValidationError) as raised:
            create_invoice(harness, request)
        assert "currency" in raised.value.fields

    def test_unknown_account_code_is_refused_naming_the_field(
        self, harness: ContractHarness
    ) -> None:
        request = invoice_request(harness, account_code="ZZNOSUCH9")
        with pytest.raises(ValidationError) as raised:
            create_invoice(harness, request)
        assert any(field.endswith("account_code") for field in raised.value.fields), (
            raised.value.fields
        )

    def test_unknown_line_account_code_is_refused_naming_the_line(
        self, harness: ContractHarness
    ) -> None:
        request = invoice_request(harness)
        bad_line = attrs.evolve(request.line_items[0], account_code="ZZNOSUCH9")
        request = attrs.evolve(request, line_items=[bad_line])
        with pytest.raises(ValidationError) as raised:
            create_invoice(harness, request)
        assert "line_items[0].account_code" in raised.value.fields

    def test_refused_request_creates_nothing(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.CHANGED_SINCE)
        anchor = create_invoice(harness)
        request = invoice_request(harness, currency="XXX")
        with pytest.raises(ValidationError):
            create_invoice(harness, request)
        since = anchor.updated_at - timedelta(seconds=1)
        assert invoices_with_reference(harness, since, request.reference) == []

    @EXAMPLES
    @given(data=st.data())
    def test_generated_invoices_have_xero_totals(
        self, harness: ContractHarness, data: st.DataObject
    ) -> None:
        drawn = data.draw(_requests(harness.currency, harness.account_code))
        contact = attrs.evolve(drawn.contact, account_reference=unique("contract"))
        request = attrs.evolve(drawn, contact=contact)
        key = f"{unique('k')}:{data.draw(strategies.idempotency_keys())}"[:128]
        invoice = harness.service.create_invoice(request, idempotency_key=key)
        check_invoice_matches_request(invoice, request, harness.tax_rate)
        again = harness.service.create_invoice(request, idempotency_key=key)
        assert again.provider_id == invoice.provider_id


class TestInvoices(InvoiceContract, CommandLineProvider):
    """The invoice contract for the provider named by ``--billing-provider``."""
