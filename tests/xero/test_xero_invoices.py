"""Invoices: never created twice, whatever happens to the responses; void and online URL rules."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest
from xero_rig import Rig

from ams_billing import (
    BatchItem,
    BatchOutcome,
    InvalidStateError,
    InvoiceStatus,
    LineItem,
    ProviderUnavailableError,
    ValidationError,
)
from ams_billing.core import money
from ams_billing.emulators.xero import FaultKind, FaultRule
from ams_billing.emulators.xero import wire as emulator_wire
from ams_billing.providers.xero import RecordState

PUT = "PUT /Invoices"
HAS_PAYMENTS = "This document cannot be edited as it has a payment or credit note allocated to it."


def test_a_response_lost_after_the_create_is_retried_without_a_duplicate(
    rig: Rig, membership
) -> None:
    rig.emulator.add_fault(FaultRule(FaultKind.DROP_AFTER, method="PUT", path="/Invoices", count=1))
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert len(rig.emulator.books().invoices) == 1
    assert rig.emulator.books().invoices[0]["InvoiceID"] == invoice.provider_id
    puts = [c for c in rig.emulator.calls if c.endpoint == PUT]
    assert [(c.dropped, c.replayed) for c in puts] == [(True, False), (False, True)]


def test_a_lost_create_is_found_again_after_xeros_key_expired(rig: Rig, membership) -> None:
    attempts = rig.provider.settings.max_attempts
    rig.emulator.add_fault(
        FaultRule(FaultKind.DROP_AFTER, method="PUT", path="/Invoices", count=attempts)
    )
    with pytest.raises(ProviderUnavailableError) as raised:
        rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert raised.value.retryable
    assert rig.provider.ledger.get("invoice:1").state is RecordState.PENDING
    created = rig.emulator.books().invoices
    assert len(created) == 1
    rig.emulator.clock.advance(rig.emulator.config.idempotency_retention + 60)
    rig.transport.clear()
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert invoice.provider_id == created[0]["InvoiceID"]
    assert len(rig.emulator.books().invoices) == 1
    (lookup,) = rig.api()
    assert lookup.method == "GET"
    assert lookup.query["ContactIDs"] == invoice.contact.provider_id
    assert lookup.query["createdByMyApp"] == "true"
    assert lookup.query["page"] == "1"
    assert rig.provider.ledger.get("invoice:1").state is RecordState.DONE


def test_a_create_that_never_arrived_is_made_on_the_retry(rig: Rig, membership) -> None:
    attempts = rig.provider.settings.max_attempts
    rig.emulator.add_fault(FaultRule(FaultKind.SERVER_ERROR, method="PUT", count=attempts))
    with pytest.raises(ProviderUnavailableError):
        rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert rig.emulator.books().invoices == ()
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert [i["InvoiceID"] for i in rig.emulator.books().invoices] == [invoice.provider_id]


def test_the_lookup_does_not_adopt_a_different_invoice(rig: Rig, membership) -> None:
    rig.service.create_invoice(
        attrs.evolve(membership, reference="OTHER"), idempotency_key="invoice:0"
    )
    attempts = rig.provider.settings.max_attempts
    rig.emulator.add_fault(FaultRule(FaultKind.SERVER_ERROR, method="PUT", count=attempts))
    with pytest.raises(ProviderUnavailableError):
        rig.service.create_invoice(membership, idempotency_key="invoice:1")
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert invoice.reference == "MEMBERSHIP-7"
    assert len(rig.emulator.books().invoices) == 2


def test_the_same_key_returns_the_current_invoice_without_a_create(rig: Rig, membership) -> None:
    first = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.driver.record_payment(first.provider_id, Decimal("10.00"))
    again = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert again.provider_id == first.provider_id
    assert again.amount_paid == Decimal("10.00")
    assert rig.endpoint_count(PUT) == 1


def test_decimals_come_back_exact(rig: Rig, membership) -> None:
    request = attrs.evolve(
        membership,
        line_items=[
            membership.line_items[0],
            attrs.evolve(
                membership.line_items[0],
                description="Levy",
                quantity=Decimal("3"),
                unit_amount=Decimal("0.3333"),
            ),
            attrs.evolve(
                membership.line_items[0], description="Discount", unit_amount=Decimal("-10.10")
            ),
        ],
    )
    invoice = rig.service.create_invoice(request, idempotency_key="invoice:1")
    assert [line.unit_amount for line in invoice.line_items] == [
        Decimal("120.00"),
        Decimal("0.3333"),
        Decimal("-10.10"),
    ]
    assert [line.line_amount for line in invoice.line_items] == [
        Decimal("120.00"),
        Decimal("1.00"),
        Decimal("-10.10"),
    ]
    assert invoice.total == invoice.subtotal + invoice.total_tax
    read = rig.service.get_invoice(invoice.provider_id)
    assert read.line_items == invoice.line_items
    assert all(isinstance(line.unit_amount, Decimal) for line in read.line_items)


def test_a_paid_invoice_cannot_be_voided_and_no_request_is_made(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.driver.record_payment(invoice.provider_id, invoice.total)
    with pytest.raises(InvalidStateError) as raised:
        rig.service.void_invoice(invoice.provider_id)
    assert raised.value.resource_id == invoice.provider_id
    assert not rig.api("POST", invoice.provider_id)


def test_a_partly_paid_invoice_cannot_be_voided(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.driver.record_payment(invoice.provider_id, Decimal("1.00"))
    with pytest.raises(InvalidStateError):
        rig.service.void_invoice(invoice.provider_id)


def test_voiding_twice_changes_nothing(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    voided = rig.service.void_invoice(invoice.provider_id)
    again = rig.service.void_invoice(invoice.provider_id)
    assert voided.status is again.status is InvoiceStatus.VOID
    assert len(rig.api("POST", invoice.provider_id)) == 1


def test_xero_statuses_map_to_the_neutral_ones_keeping_xero_s_word(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert (invoice.status, invoice.provider_status) == (InvoiceStatus.OPEN, "AUTHORISED")
    voided = rig.service.void_invoice(invoice.provider_id)
    assert (voided.status, voided.provider_status) == (InvoiceStatus.VOID, "VOIDED")


def test_a_void_xero_refuses_is_an_invalid_state(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    refused = {
        "Invoices": [
            {
                "InvoiceID": invoice.provider_id,
                "StatusAttributeString": "ERROR",
                "ValidationErrors": [{"Message": HAS_PAYMENTS}],
            }
        ]
    }
    rig.transport.script(1, 200, refused, method="POST", path=invoice.provider_id)
    with pytest.raises(InvalidStateError, match="payment"):
        rig.service.void_invoice(invoice.provider_id)


def test_the_online_url_is_xeros(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    url = rig.service.get_invoice_url(invoice.provider_id)
    assert url.startswith(rig.emulator.config.online_invoice_base_url)
    assert rig.service.get_invoice_url(invoice.provider_id) == url


def test_an_online_url_xero_cannot_give_is_an_invalid_state(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    body = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [{"ValidationErrors": [{"Message": "Invoice is a draft"}]}],
    }
    rig.transport.script(1, 400, body, path="OnlineInvoice")
    with pytest.raises(InvalidStateError, match="draft"):
        rig.service.get_invoice_url(invoice.provider_id)


def test_an_invoice_paid_in_xero_reads_as_paid(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.driver.record_payment(invoice.provider_id, Decimal("38.00"))
    partly = rig.service.get_invoice(invoice.provider_id)
    assert (partly.status, partly.amount_paid, partly.amount_due) == (
        InvoiceStatus.OPEN,
        Decimal("38.00"),
        Decimal("100.00"),
    )
    assert partly.is_partially_paid
    assert partly.fully_paid_on is None
    rig.driver.record_payment(invoice.provider_id, Decimal("100.00"))
    paid = rig.service.get_invoice(invoice.provider_id)
    assert paid.is_paid
    assert paid.amount_due == 0
    assert paid.fully_paid_on is not None


def test_an_emailed_invoice_can_be_voided(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.service.send_invoice(invoice)
    assert rig.service.void_invoice(invoice.provider_id).status is InvoiceStatus.VOID


@pytest.mark.parametrize(
    ("quantity", "unit_amount", "field"),
    [
        ("1e30", "1", "quantity"),
        ("1", "1" * 30, "unit_amount"),
        ("9999999999", "9999999999", "line_items[0]"),
    ],
)
def test_a_huge_line_is_refused_before_any_call(
    rig: Rig, membership, quantity: str, unit_amount: str, field: str
) -> None:
    """Xero answers 400; the request never gets that far (it used to raise InvalidOperation)."""
    before = len(rig.emulator.calls)

    def create() -> None:
        line = LineItem("Membership", quantity, unit_amount)
        request = attrs.evolve(membership, line_items=[line])
        rig.service.create_invoice(request, idempotency_key="invoice:huge")

    with pytest.raises(ValidationError) as raised:
        create()
    assert raised.value.fields == (field,)
    assert "9,999,999,999.99" in raised.value.errors[0].message
    assert rig.emulator.calls[before:] == []


def test_the_provider_and_the_emulator_share_xeros_largest_amount() -> None:
    assert money.MAX_AMOUNT == emulator_wire.MAX_AMOUNT


def test_a_line_tax_rate_is_refused_before_any_call(rig: Rig, membership) -> None:
    # Xero taxes a line by its account's TaxType: a bare percentage is refused, not ignored.
    taxed = attrs.evolve(membership.line_items[0], tax_rate=Decimal("12.5"))
    request = attrs.evolve(membership, line_items=[membership.line_items[0], taxed])
    with pytest.raises(ValidationError) as raised:
        rig.service.create_invoice(request, idempotency_key="invoice:taxed")
    assert raised.value.fields == ("line_items[1].tax_rate",)
    assert "tax type" in str(raised.value)
    assert rig.api() == []


def test_a_batch_item_with_a_line_tax_rate_fails_alone(rig: Rig, membership) -> None:
    taxed = attrs.evolve(
        membership,
        reference="TAXED",
        line_items=[attrs.evolve(membership.line_items[0], tax_rate=Decimal(15))],
    )
    items = [
        BatchItem(taxed, "invoice:taxed"),
        BatchItem(membership, "invoice:plain"),
    ]
    results = rig.service.create_invoices(items)
    assert [(r.index, r.outcome) for r in results] == [
        (0, BatchOutcome.FAILED),
        (1, BatchOutcome.CREATED),
    ]
    assert isinstance(results[0].error, ValidationError)
    assert results[0].error.fields == ("items[0].line_items[0].tax_rate",)
    assert [i["Reference"] for i in rig.emulator.books().invoices] == ["MEMBERSHIP-7"]
