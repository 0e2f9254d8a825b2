"""Contract: ``create_invoice`` raises OPEN invoices with the declared arithmetic, exactly once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_UP, Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ams_billing.contracts import strategies
from ams_billing.contracts.builders import create_invoice, invoice_request, unique
from ams_billing.contracts.capabilities import require_capability, require_other_currencies
from ams_billing.contracts.case import EXAMPLES, ContractCase
from ams_billing.contracts.checks import (
    check_conflict,
    check_explained,
    expected_totals,
    invoices_with_reference,
    minor_unit_places,
    money,
)
from ams_billing.core.behaviour import ProviderBehaviour, TaxModel
from ams_billing.core.errors import IdempotencyConflictError, ValidationError
from ams_billing.core.models import (
    AmountType,
    Capability,
    Invoice,
    InvoiceDefaults,
    InvoiceRequest,
    InvoiceStatus,
    LineItem,
)
from ams_billing.core.money import QUANTITY_PLACES
from ams_billing.testing.harness import ContractHarness

__all__ = ["InvoiceContract", "check_invoice_matches_request"]


@functools.cache
def _requests(
    currency: str, account_code: str | None, quantity_places: int
) -> st.SearchStrategy[InvoiceRequest]:
    return strategies.invoice_requests(
        currency=currency, account_code=account_code, quantity_places=quantity_places
    )


NO_TAX_REASON = (
    "the provider declares TaxModel.NO_TAX: it computes no tax, so there is none to check"
)


def require_tax_model(harness: ContractHarness, *models: TaxModel) -> None:
    """Skip, saying why, unless the provider declares one of ``models``."""
    declared = harness.service.behaviour.tax_model
    if declared in models:
        return
    if declared is TaxModel.NO_TAX:
        pytest.skip(NO_TAX_REASON)
    pytest.skip(
        f"the provider declares {declared}, and this test is for {' or '.join(map(str, models))}"
    )


def check_invoice_matches_request(
    invoice: Invoice,
    request: InvoiceRequest,
    tax_rate: Decimal | None,
    *,
    defaults: InvoiceDefaults | None = None,
    behaviour: ProviderBehaviour | None = None,
) -> None:
    """Assert that a freshly created invoice is what ``request`` asked for, to the cent.

    ``defaults`` are the provider's (``service.invoice_defaults``): what a request that
    leaves a field unset must be billed with. Without them every request must name its
    amount type. ``behaviour`` is what the provider declares (``service.behaviour``; the
    defaults when omitted): an invoice of zero must have its ``zero_total_status``, and tax
    follows its ``tax_model`` (with ``NO_TAX``, the invoice's amount type is ``NO_TAX`` and
    every tax zero).
    """
    behaviour = ProviderBehaviour() if behaviour is None else behaviour
    if defaults is not None:
        request = defaults.apply(request)
    assert request.amount_type is not None, "the request names no amount type: pass defaults"
    if behaviour.tax_model is TaxModel.NO_TAX:
        request = attrs.evolve(request, amount_type=AmountType.NO_TAX)
        tax_rate = Decimal(0)
    assert invoice.provider_id
    status = InvoiceStatus.OPEN if invoice.total else behaviour.zero_total_status
    assert invoice.status is status, (
        f"an invoice of {invoice.total} must be {status.name} (declared zero total status: "
        f"{behaviour.zero_total_status.name}), not {invoice.status.name}"
    )
    assert invoice.currency == request.currency
    assert invoice.contact.account_reference == request.contact.account_reference
    assert (invoice.issue_date, invoice.due_date) == (request.issue_date, request.due_date)
    assert invoice.reference == request.reference
    assert invoice.amount_type is request.amount_type
    assert invoice.subtotal + invoice.total_tax == invoice.total
    assert invoice.amount_paid == 0
    assert invoice.amount_due == invoice.total
    assert (invoice.fully_paid_on is not None) is (status is InvoiceStatus.PAID)
    assert len(invoice.line_items) == len(request.line_items)
    for line, item in zip(invoice.line_items, request.line_items, strict=True):
        assert (line.description, line.quantity, line.unit_amount) == (
            item.description,
            item.quantity,
            item.unit_amount,
        )
        named = item.account_code or request.account_code
        if named is not None:
            assert line.account_code == named
    if behaviour.tax_model is not TaxModel.PER_INVOICE_HALF_UP:
        assert sum((line.tax_amount for line in invoice.line_items), Decimal(0)) == (
            invoice.total_tax
        )
    line_sum = sum((line.line_amount for line in invoice.line_items), Decimal(0))
    if request.amount_type is AmountType.INCLUSIVE:
        assert invoice.total == line_sum
    else:
        assert invoice.subtotal == line_sum
    # The rate does not matter for these two.
    zero_rate = expected_totals(request, Decimal(0), TaxModel.NO_TAX)
    assert [line.line_amount for line in invoice.line_items] == [a for a, _ in zero_rate.lines]
    if request.amount_type is AmountType.NO_TAX:
        assert invoice.total_tax == 0
    if tax_rate is None:
        return
    expected = expected_totals(request, tax_rate, behaviour.tax_model)
    if behaviour.tax_model is not TaxModel.PER_INVOICE_HALF_UP:
        assert [line.tax_amount for line in invoice.line_items] == [t for _, t in expected.lines]
    assert (invoice.subtotal, invoice.total_tax, invoice.total) == (
        expected.subtotal,
        expected.total_tax,
        expected.total,
    )


Change = Callable[[ContractHarness, InvoiceRequest], InvoiceRequest | None]


def _line(request: InvoiceRequest, **changes: Any) -> InvoiceRequest:
    return attrs.evolve(request, line_items=[attrs.evolve(request.line_items[0], **changes)])


def _other_account(harness: ContractHarness, request: InvoiceRequest) -> InvoiceRequest | None:
    return attrs.evolve(request, account_code=None) if harness.account_code else None


def _line_account(harness: ContractHarness, request: InvoiceRequest) -> InvoiceRequest | None:
    return _line(request, account_code=harness.account_code) if harness.account_code else None


def _other_currency(harness: ContractHarness, request: InvoiceRequest) -> InvoiceRequest | None:
    others = [c for c in harness.other_currencies if c != request.currency]
    return attrs.evolve(request, currency=others[0]) if others else None


_CHANGES: dict[str, Change] = {
    "contact.name": lambda h, r: attrs.evolve(
        r, contact=attrs.evolve(r.contact, name=f"{r.contact.name} Jr")
    ),
    "contact.email": lambda h, r: attrs.evolve(
        r, contact=attrs.evolve(r.contact, email="other@example.org")
    ),
    "contact.account_reference": lambda h, r: attrs.evolve(
        r, contact=attrs.evolve(r.contact, account_reference=unique("contract"))
    ),
    "line.description": lambda h, r: _line(r, description="Another item"),
    "line.quantity": lambda h, r: _line(r, quantity=Decimal(2)),
    "line.unit_amount": lambda h, r: _line(r, unit_amount=Decimal("100.01")),
    "line.account_code": _line_account,
    "line_items": lambda h, r: attrs.evolve(
        r, line_items=[*r.line_items, LineItem("Late fee", Decimal(1), Decimal(5))]
    ),
    "currency": _other_currency,
    "issue_date": lambda h, r: attrs.evolve(r, issue_date=r.issue_date - timedelta(days=1)),
    "due_date": lambda h, r: attrs.evolve(r, due_date=r.due_date + timedelta(days=1)),
    "reference": lambda h, r: attrs.evolve(r, reference=unique("ref")),
    "reference.cleared": lambda h, r: attrs.evolve(r, reference=None),
    "amount_type": lambda h, r: attrs.evolve(r, amount_type=AmountType.INCLUSIVE),
    "account_code": _other_account,
}
"""For each field of a request, a change to it (``None`` when the harness allows none)."""


def tax_ties(tax_rate: Decimal, currency: str, count: int = 3) -> list[Decimal]:
    """Small line amounts whose tax at ``tax_rate`` lies exactly half a minor unit from two.

    Rounding half to even, half down or half up differ on them; the first ones found are those
    where half to even rounds down (half away from zero rounds up). Empty if there are none.
    """
    unit = Decimal(1).scaleb(-minor_unit_places(currency))
    found: list[Decimal] = []
    for step in range(1, 20_000):
        amount = unit * step
        units = amount * tax_rate / unit  # the tax in minor units
        if units % 1 == Decimal("0.5") and int(units) % 2 == 0:
            found.append(amount)
            if len(found) == count:
                break
    return found


def _places(amount: Decimal) -> int:
    # Computed here, not with the core's helper: a bug there must not hide a provider's.
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int), amount
    return max(0, -exponent)


def _check_minor_units(invoice: Invoice) -> None:
    places = minor_unit_places(invoice.currency)
    amounts = [invoice.subtotal, invoice.total_tax, invoice.total, invoice.amount_due]
    amounts += [a for line in invoice.line_items for a in (line.line_amount, line.tax_amount)]
    assert all(_places(amount) <= places for amount in amounts), (
        f"{invoice.currency} has {places} decimal places: {amounts}"
    )


def _tie_request(
    harness: ContractHarness, currency: str, amount_type: AmountType = AmountType.EXCLUSIVE
) -> InvoiceRequest:
    """A request in ``currency`` with line-amount ties and, when the rate is known, tax ties."""
    places = minor_unit_places(currency)
    half = Decimal(5).scaleb(-places - 1)  # half a minor unit
    lines = [("1", str(Decimal(10) + half)), ("3", str(3 * half))]
    taxed = harness.service.behaviour.tax_model is not TaxModel.NO_TAX
    if harness.tax_rate is not None and taxed:
        lines += [("1", str(amount)) for amount in tax_ties(harness.tax_rate, currency)]
    return invoice_request(harness, lines=lines, currency=currency, amount_type=amount_type)


class InvoiceContract(ContractCase):
    """``create_invoice``: status, totals, idempotency and refusals that name the field."""

    def test_invoice_is_authorised_with_consistent_totals(self, harness: ContractHarness) -> None:
        request = invoice_request(harness, lines=[("2", "60.00"), ("1", "19.99")])
        invoice = create_invoice(harness, request)
        assert isinstance(invoice, Invoice)
        check_invoice_matches_request(
            invoice, request, harness.tax_rate, behaviour=harness.service.behaviour
        )

    @pytest.mark.parametrize("amount_type", list(AmountType), ids=lambda t: t.value)
    def test_tax_is_computed_and_rounded_per_line(
        self, harness: ContractHarness, amount_type: AmountType
    ) -> None:
        # At 15 % each 0.05 line bears 0.0075 (0.01 rounded); taxing the total gives 0.02.
        require_tax_model(harness, TaxModel.PER_LINE_HALF_UP, TaxModel.PER_INVOICE_HALF_UP)
        request = invoice_request(
            harness, lines=[("1", "0.05")] * 3 + [("3", "0.3333")], amount_type=amount_type
        )
        invoice = create_invoice(harness, request)
        check_invoice_matches_request(
            invoice, request, harness.tax_rate, behaviour=harness.service.behaviour
        )

    def test_four_place_unit_amounts_round_half_up_per_line(self, harness: ContractHarness) -> None:
        request = invoice_request(harness, lines=[("1", "10.0050"), ("3", "0.0049"), ("1", "0")])
        invoice = create_invoice(harness, request)
        # 10.0050 -> 10.01 and 0.0147 -> 0.01 in a two-place currency.
        expected = [money(Decimal(a), invoice.currency) for a in ("10.0050", "0.0147", "0")]
        assert [line.line_amount for line in invoice.line_items] == expected
        check_invoice_matches_request(
            invoice, request, harness.tax_rate, behaviour=harness.service.behaviour
        )

    def test_discount_lines_reduce_the_total(self, harness: ContractHarness) -> None:
        request = invoice_request(harness, lines=[("1", "120.00"), ("1", "-20.0000")])
        invoice = create_invoice(harness, request)
        check_invoice_matches_request(
            invoice, request, harness.tax_rate, behaviour=harness.service.behaviour
        )
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
        check_conflict(raised.value, key)

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
        check_explained(raised.value, "currency")

    def test_unknown_account_code_is_refused_naming_the_field(
        self, harness: ContractHarness
    ) -> None:
        request = invoice_request(harness, account_code="ZZNOSUCH9")
        with pytest.raises(ValidationError) as raised:
            create_invoice(harness, request)
        assert any(field.endswith("account_code") for field in raised.value.fields), (
            raised.value.fields
        )
        check_explained(raised.value)

    def test_unknown_line_account_code_is_refused_naming_the_line(
        self, harness: ContractHarness
    ) -> None:
        request = invoice_request(harness)
        bad_line = attrs.evolve(request.line_items[0], account_code="ZZNOSUCH9")
        request = attrs.evolve(request, line_items=[bad_line])
        with pytest.raises(ValidationError) as raised:
            create_invoice(harness, request)
        check_explained(raised.value, "line_items[0].account_code")

    def test_refused_request_creates_nothing(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.CHANGED_SINCE)
        anchor = create_invoice(harness)
        request = invoice_request(harness, currency="XXX")
        with pytest.raises(ValidationError):
            create_invoice(harness, request)
        since = anchor.updated_at - timedelta(seconds=1)
        assert invoices_with_reference(harness, since, request.reference) == []

    def test_half_cent_tax_rounds_half_away_from_zero(self, harness: ContractHarness) -> None:
        require_tax_model(harness, TaxModel.PER_LINE_HALF_UP)
        if harness.tax_rate is None:
            pytest.skip("the harness states no tax_rate, so the tax of a line is not known")
        ties = tax_ties(harness.tax_rate, harness.currency)
        if not ties:
            pytest.skip(f"no line amount bears a tax tie at {harness.tax_rate}")
        # Ties up, and the same ties as discounts (down, away from zero), on a positive total.
        lines = [("1", str(t)) for t in ties] + [("1", "100.00")] + [("1", str(-ties[0]))]
        request = invoice_request(harness, lines=lines)
        invoice = create_invoice(harness, request)
        check_invoice_matches_request(
            invoice, request, harness.tax_rate, behaviour=harness.service.behaviour
        )
        place = Decimal(1).scaleb(-minor_unit_places(invoice.currency))
        for line, tie in zip(invoice.line_items, ties, strict=False):
            # Exactly half a unit: half away from zero is rounding up, away from zero.
            assert line.tax_amount == (tie * harness.tax_rate).quantize(place, rounding=ROUND_UP)
        assert invoice.line_items[-1].tax_amount == -invoice.line_items[0].tax_amount

    @pytest.mark.parametrize(
        "amount_type", [AmountType.EXCLUSIVE, AmountType.INCLUSIVE], ids=lambda t: t.value
    )
    def test_other_currencies_are_billed_in_that_currency(
        self, harness: ContractHarness, amount_type: AmountType
    ) -> None:
        for currency in require_other_currencies(harness):
            request = _tie_request(harness, currency, amount_type)
            invoice = create_invoice(harness, request)
            assert invoice.currency == currency
            check_invoice_matches_request(
                invoice, request, harness.tax_rate, behaviour=harness.service.behaviour
            )
            _check_minor_units(invoice)
            read = harness.service.get_invoice(invoice.provider_id)
            assert (read.currency, read.total) == (currency, invoice.total)

    def test_zero_decimal_currency_has_no_minor_unit(self, harness: ContractHarness) -> None:
        currencies = [harness.currency, *harness.other_currencies]
        whole = [c for c in currencies if minor_unit_places(c) == 0]
        if not whole:
            pytest.skip(f"none of the harness's currencies {currencies} is zero-decimal")
        request = _tie_request(harness, whole[0])
        invoice = create_invoice(harness, request)
        check_invoice_matches_request(
            invoice, request, harness.tax_rate, behaviour=harness.service.behaviour
        )
        _check_minor_units(invoice)
        assert invoice.line_items[0].line_amount == Decimal(11)  # 10.5 rounds away from zero
        harness.driver.record_payment(invoice.provider_id, invoice.amount_due)
        paid = harness.service.get_invoice(invoice.provider_id)
        assert (paid.status, paid.amount_due, paid.currency) == (
            InvoiceStatus.PAID,
            Decimal(0),
            whole[0],
        )

    def test_invoice_keys_are_compared_exactly(self, harness: ContractHarness) -> None:
        key = unique("Invoice")
        request = invoice_request(harness)
        first = harness.service.create_invoice(request, idempotency_key=key)
        seen = {first.provider_id}
        # Same request under keys that differ only in case, or by a character: new invoices.
        for variant in (key.swapcase(), key.lower(), key.upper(), key[:-1], f"{key}0"):
            again = harness.service.create_invoice(request, idempotency_key=variant)
            assert again.provider_id not in seen, f"key {variant!r} was taken for {key!r}"
            seen.add(again.provider_id)
        other = harness.service.create_invoice(invoice_request(harness), idempotency_key=key[1:])
        assert other.provider_id not in seen

    @pytest.mark.parametrize("field", list(_CHANGES), ids=str)
    def test_invoice_key_with_any_field_changed_conflicts(
        self, harness: ContractHarness, field: str
    ) -> None:
        request = invoice_request(harness)
        changed = _CHANGES[field](harness, request)
        if changed is None:
            pytest.skip(f"the harness gives no second value for {field}")
        assert changed != request
        key = unique("invoice")
        harness.service.create_invoice(request, idempotency_key=key)
        with pytest.raises(IdempotencyConflictError) as raised:
            harness.service.create_invoice(changed, idempotency_key=key)
        check_conflict(raised.value, key)

    @EXAMPLES
    @given(data=st.data())
    def test_generated_invoices_have_xero_totals(
        self, harness: ContractHarness, data: st.DataObject
    ) -> None:
        places = harness.service.behaviour.quantity_places
        drawn = data.draw(_requests(harness.currency, harness.account_code, places))
        contact = attrs.evolve(drawn.contact, account_reference=unique("contract"))
        request = attrs.evolve(drawn, contact=contact)
        key = f"{unique('k')}:{data.draw(strategies.idempotency_keys())}"[:128]
        invoice = harness.service.create_invoice(request, idempotency_key=key)
        defaults = harness.service.invoice_defaults
        check_invoice_matches_request(
            invoice,
            request,
            harness.tax_rate,
            defaults=defaults,
            behaviour=harness.service.behaviour,
        )
        again = harness.service.create_invoice(request, idempotency_key=key)
        assert again.provider_id == invoice.provider_id

    def test_unset_amount_type_is_the_providers_default(self, harness: ContractHarness) -> None:
        defaults = harness.service.invoice_defaults
        assert isinstance(defaults, InvoiceDefaults)
        request = invoice_request(harness, lines=[("1", "120.00"), ("3", "0.35")], amount_type=None)
        key = unique("invoice")
        invoice = harness.service.create_invoice(request, idempotency_key=key)
        expected = defaults.amount_type
        if harness.service.behaviour.tax_model is TaxModel.NO_TAX:
            expected = AmountType.NO_TAX  # whatever was asked: it computes no tax
        assert invoice.amount_type is expected
        check_invoice_matches_request(
            invoice,
            request,
            harness.tax_rate,
            defaults=defaults,
            behaviour=harness.service.behaviour,
        )
        assert harness.service.get_invoice(invoice.provider_id).amount_type is expected
        # The retry of the same request (still naming none) is the same invoice.
        again = harness.service.create_invoice(request, idempotency_key=key)
        assert again.provider_id == invoice.provider_id

    def test_zero_total_invoice_takes_the_declared_status(self, harness: ContractHarness) -> None:
        declared = harness.service.behaviour.zero_total_status
        request = invoice_request(harness, lines=[("1", "0")])
        invoice = create_invoice(harness, request)
        check_invoice_matches_request(
            invoice, request, harness.tax_rate, behaviour=harness.service.behaviour
        )
        assert (invoice.status, invoice.total, invoice.amount_due) == (
            declared,
            Decimal(0),
            Decimal(0),
        )
        read = harness.service.get_invoice(invoice.provider_id)
        assert (read.status, read.amount_due) == (declared, Decimal(0))
        assert (read.fully_paid_on is not None) is (declared is InvoiceStatus.PAID)

    def test_quantity_with_the_declared_places_is_billed_exactly(
        self, harness: ContractHarness
    ) -> None:
        places = harness.service.behaviour.quantity_places
        finest = Decimal(1).scaleb(-places) if places else Decimal(1)
        request = invoice_request(harness, lines=[(str(3 + finest), "10.00")])
        invoice = create_invoice(harness, request)
        assert invoice.line_items[0].quantity == 3 + finest
        check_invoice_matches_request(
            invoice, request, harness.tax_rate, behaviour=harness.service.behaviour
        )

    def test_quantity_finer_than_declared_is_refused_naming_the_line(
        self, harness: ContractHarness
    ) -> None:
        places = harness.service.behaviour.quantity_places
        if places >= QUANTITY_PLACES:
            pytest.skip(f"the provider keeps {places} places, as many as a LineItem may have")
        finer = Decimal(1).scaleb(-places - 1)
        request = invoice_request(harness, lines=[("1", "10.00"), (str(1 + finer), "10.00")])
        with pytest.raises(ValidationError) as raised:
            create_invoice(harness, request)
        check_explained(raised.value, "line_items[1].quantity")

    def test_line_tax_rate_is_refused_without_tax(self, harness: ContractHarness) -> None:
        if harness.service.behaviour.tax_model is not TaxModel.NO_TAX:
            pytest.skip("the provider computes tax (it declares no TaxModel.NO_TAX)")
        request = invoice_request(harness, lines=[("1", "10.00"), ("1", "10.00")])
        taxed = attrs.evolve(request.line_items[1], tax_rate=Decimal(15))
        request = attrs.evolve(request, line_items=[request.line_items[0], taxed])
        with pytest.raises(ValidationError) as raised:
            create_invoice(harness, request)
        check_explained(raised.value, "line_items[1].tax_rate")

    def test_line_tax_rate_is_applied_or_refused_naming_it(self, harness: ContractHarness) -> None:
        # A line's own rate is billed, or refused: never silently replaced by another rate.
        require_tax_model(harness, TaxModel.PER_LINE_HALF_UP)
        request = invoice_request(harness, lines=[("1", "100.00"), ("1", "10.05")])
        taxed = [attrs.evolve(line, tax_rate=Decimal("12.5")) for line in request.line_items]
        request = attrs.evolve(request, line_items=taxed)
        refused: ValidationError | None = None
        try:
            invoice = create_invoice(harness, request)
        except ValidationError as error:
            refused = error
        if refused is not None:
            check_explained(refused)
            assert set(refused.fields) == {"line_items[0].tax_rate", "line_items[1].tax_rate"}
            return
        check_invoice_matches_request(
            invoice, request, harness.tax_rate, behaviour=harness.service.behaviour
        )
        assert [line.tax_amount for line in invoice.line_items] == [
            money(line.line_amount * Decimal("0.125"), invoice.currency)
            for line in invoice.line_items
        ]

    def test_past_due_date_is_refused_naming_it_when_declared(
        self, harness: ContractHarness
    ) -> None:
        if not harness.service.behaviour.refuses_past_due_dates:
            pytest.skip("the provider declares that it accepts past due dates")
        request = invoice_request(harness)
        past = request.issue_date - timedelta(days=2)
        request = attrs.evolve(request, issue_date=past - timedelta(days=5), due_date=past)
        with pytest.raises(ValidationError) as raised:
            create_invoice(harness, request)
        check_explained(raised.value, "due_date")
