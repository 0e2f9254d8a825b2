"""Declared behaviour: reported by the provider (or the defaults), enforced by the facade."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest

from ams_billing import (
    BatchItem,
    BatchOutcome,
    BillingService,
    Contact,
    ContactView,
    InvoiceRequest,
    InvoiceStatus,
    LineItem,
    ProviderBehaviour,
    TaxModel,
    ValidationError,
    WebhookBehaviour,
    hookimpl,
)
from ams_billing.core.convert import structure, unstructure
from ams_billing.core.ledger import fingerprint
from ams_billing.providers.fake import FakeProvider
from ams_billing.providers.xero.provider import XERO_BEHAVIOUR

STRIPE_LIKE = ProviderBehaviour(
    quantity_places=0,
    tax_model=TaxModel.NO_TAX,
    zero_total_status=InvoiceStatus.PAID,
    issued_contact=ContactView.SNAPSHOT,
    refuses_past_due_dates=True,
    webhooks=WebhookBehaviour(signature_tolerance=timedelta(seconds=300), snapshot_events=True),
)


def test_the_defaults_are_xero_s_answers_and_xero_declares_them() -> None:
    assert ProviderBehaviour() == attrs.evolve(
        XERO_BEHAVIOUR, webhooks=WebhookBehaviour(intent_to_receive=False)
    )
    assert XERO_BEHAVIOUR.webhooks == WebhookBehaviour(intent_to_receive=True)
    assert XERO_BEHAVIOUR.quantity_places == 4
    assert XERO_BEHAVIOUR.zero_total_status is InvoiceStatus.OPEN


def test_a_provider_that_declares_nothing_gets_the_defaults() -> None:
    class Undeclared(FakeProvider):
        get_behaviour = None  # type: ignore[assignment]  # the hook is optional

    assert BillingService(Undeclared()).behaviour == ProviderBehaviour()


def test_the_service_reports_what_the_provider_declares() -> None:
    assert BillingService(FakeProvider(behaviour=STRIPE_LIKE)).behaviour == STRIPE_LIKE

    class Declaring(FakeProvider):
        @hookimpl
        def get_behaviour(self) -> ProviderBehaviour:
            return attrs.evolve(STRIPE_LIKE, quantity_places=2)

    assert BillingService(Declaring()).behaviour.quantity_places == 2


def test_bad_declarations_are_refused() -> None:
    with pytest.raises(ValueError, match="quantity_places"):
        ProviderBehaviour(quantity_places=-1)
    with pytest.raises(TypeError):
        ProviderBehaviour(zero_total_status="PAID")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="per invoice"):
        FakeProvider(behaviour=ProviderBehaviour(tax_model=TaxModel.PER_INVOICE_HALF_UP))


def test_a_quantity_finer_than_declared_is_refused_naming_the_line(
    invoice_request: InvoiceRequest,
) -> None:
    fake = FakeProvider(behaviour=STRIPE_LIKE)
    service = BillingService(fake)
    today = date.today()
    lines = (
        LineItem("whole", Decimal(2), Decimal("10.00")),
        LineItem("half", Decimal("1.5"), Decimal("10.00")),
    )
    request = attrs.evolve(invoice_request, line_items=lines, issue_date=today, due_date=today)
    with pytest.raises(ValidationError) as raised:
        service.create_invoice(request, idempotency_key="k-1")
    assert raised.value.fields == ("line_items[1].quantity",)
    assert "whole number" in str(raised.value)
    assert fake.invoices == []
    # Xero keeps 4 places: the same request is billed.
    assert BillingService(FakeProvider()).create_invoice(request, idempotency_key="k-1")


def test_a_past_due_date_is_refused_only_when_declared(invoice_request: InvoiceRequest) -> None:
    yesterday = date.today() - timedelta(days=1)
    request = attrs.evolve(invoice_request, issue_date=yesterday, due_date=yesterday)
    fake = FakeProvider(behaviour=attrs.evolve(STRIPE_LIKE, quantity_places=4))
    with pytest.raises(ValidationError) as raised:
        BillingService(fake).create_invoice(request, idempotency_key="k-1")
    assert raised.value.fields == ("due_date",)
    assert fake.invoices == []
    assert BillingService(FakeProvider()).create_invoice(request, idempotency_key="k-1")


def test_a_fake_declaring_stripe_s_behaviour_acts_so(invoice_request: InvoiceRequest) -> None:
    fake = FakeProvider(behaviour=attrs.evolve(STRIPE_LIKE, quantity_places=4))
    service = BillingService(fake)
    today = date.today()
    free = attrs.evolve(
        invoice_request,
        line_items=(LineItem("free", Decimal(1), Decimal(0)),),
        issue_date=today,
        due_date=today,
    )
    invoice = service.create_invoice(free, idempotency_key="k-free")
    assert (invoice.status, invoice.amount_due, invoice.fully_paid_on) == (
        InvoiceStatus.PAID,
        Decimal(0),
        invoice.updated_at.date(),
    )
    paid = attrs.evolve(free, line_items=(LineItem("fee", Decimal(1), Decimal("10.00")),))
    billed = service.create_invoice(paid, idempotency_key="k-paid")
    assert (billed.status, billed.total_tax, billed.total) == (
        InvoiceStatus.OPEN,
        Decimal(0),
        Decimal("10.00"),
    )
    renamed = attrs.evolve(free.contact, name="Renamed", email="new@example.org")
    service.create_contact(renamed, idempotency_key="c-renamed")
    assert service.get_invoice(billed.provider_id).contact == billed.contact  # a snapshot


# -- a line's own tax rate ---------------------------------------------------------------------


def _today(request: InvoiceRequest, *lines: LineItem) -> InvoiceRequest:
    today = date.today()
    return attrs.evolve(request, line_items=lines, issue_date=today, due_date=today)


def test_a_line_tax_rate_is_a_percentage_from_0_to_100() -> None:
    assert LineItem("fee", 1, "10.00", tax_rate="12.5").tax_rate == Decimal("12.5")
    assert LineItem("fee", 1, "10.00").tax_rate is None  # the provider's own rule
    for bad in ("-1", "100.0001", "12.34567"):
        with pytest.raises(ValidationError) as raised:
            LineItem("fee", 1, "10.00", tax_rate=bad)
        assert raised.value.fields == ("tax_rate",)
    with pytest.raises(ValidationError, match="float"):
        LineItem("fee", 1, "10.00", tax_rate=0.15)


def test_the_fake_taxes_a_line_at_its_own_rate(invoice_request: InvoiceRequest) -> None:
    service = BillingService(FakeProvider())  # account 200 is taxed at 15 %
    request = _today(
        invoice_request,
        LineItem("own rate", 1, "100.00", tax_rate="10"),
        LineItem("account's rate", 1, "100.00"),
        LineItem("zero rated", 1, "100.00", tax_rate="0"),
    )
    invoice = service.create_invoice(request, idempotency_key="k-rates")
    assert [line.tax_amount for line in invoice.line_items] == [Decimal(10), Decimal(15), 0]


def test_a_line_tax_rate_is_refused_when_the_provider_computes_no_tax(
    invoice_request: InvoiceRequest,
) -> None:
    fake = FakeProvider(behaviour=attrs.evolve(STRIPE_LIKE, quantity_places=4))
    service = BillingService(fake)
    request = _today(
        invoice_request,
        LineItem("untaxed", 1, "10.00"),
        LineItem("taxed", 1, "10.00", tax_rate="15"),
    )
    with pytest.raises(ValidationError) as raised:
        service.create_invoice(request, idempotency_key="k-1")
    assert raised.value.fields == ("line_items[1].tax_rate",)
    assert "computes no tax" in str(raised.value)
    assert fake.invoices == []


def test_a_batch_refuses_what_was_declared_per_item(invoice_request: InvoiceRequest) -> None:
    fake = FakeProvider(behaviour=STRIPE_LIKE)
    service = BillingService(fake)
    good = _today(invoice_request, LineItem("fee", 1, "10.00"))
    yesterday = date.today() - timedelta(days=1)
    refused = [
        _today(invoice_request, LineItem("taxed", 1, "10.00", tax_rate="15")),
        _today(invoice_request, LineItem("half", "1.5", "10.00")),
        attrs.evolve(good, issue_date=yesterday, due_date=yesterday),
    ]
    items = [BatchItem(good, "k-good"), *(BatchItem(r, f"k-{i}") for i, r in enumerate(refused))]
    results = service.create_invoices(items)
    assert [result.outcome for result in results] == [BatchOutcome.CREATED] + [
        BatchOutcome.FAILED
    ] * 3
    fields = [
        result.error.fields for result in results[1:] if isinstance(result.error, ValidationError)
    ]
    assert fields == [
        ("items[1].line_items[0].tax_rate",),
        ("items[2].line_items[0].quantity",),
        ("items[3].due_date",),
    ]
    assert len(fake.invoices) == 1


def test_a_request_naming_no_tax_rate_keeps_its_earlier_fingerprint() -> None:
    # Idempotency records and the AMS's content-derived keys written before LineItem.tax_rate
    # existed must still match: a line naming none unstructures as it did.
    request = InvoiceRequest(
        contact=Contact("acct-1", "Ada", "ada@example.org"),
        line_items=[LineItem("Annual membership", 1, "120.00", account_code="200")],
        currency="NZD",
        issue_date=date(2026, 7, 1),
        due_date=date(2026, 7, 31),
        reference="REF-1",
    )
    assert fingerprint("create_invoice", request) == (
        "2f51331f2811d62d1c319fe161b9b1238bfb851f9e5663e589bb2616ee9686c0"
    )
    taxed = attrs.evolve(request, line_items=[attrs.evolve(request.line_items[0], tax_rate=15)])
    assert fingerprint("create_invoice", taxed) != fingerprint("create_invoice", request)
    assert structure(unstructure(taxed), InvoiceRequest) == taxed
