from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ams_billing import AmountType, Contact, InvoiceRequest, LineItem, ValidationError
from ams_billing.core.convert import structure, unstructure
from ams_billing.core.money import MAX_AMOUNT


def field_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> tuple[str, ...]:
    return excinfo.value.fields


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"quantity": Decimal(-1)}, "quantity"),
        ({"quantity": Decimal("0.00001")}, "quantity"),
        ({"unit_amount": Decimal("NaN")}, "unit_amount"),
        ({"unit_amount": Decimal("Infinity")}, "unit_amount"),
        ({"unit_amount": 1.5}, "unit_amount"),
        ({"unit_amount": "twelve"}, "unit_amount"),
        ({"unit_amount": Decimal("1.00001")}, "unit_amount"),
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"quantity": "1e30"}, "quantity"),
        ({"quantity": "10000000000"}, "quantity"),
        ({"quantity": "1e999999999"}, "quantity"),
        ({"quantity": "1e-999999999"}, "quantity"),
        ({"unit_amount": "1" * 30}, "unit_amount"),
        ({"unit_amount": "-1e30"}, "unit_amount"),
        ({"unit_amount": "9999999999.991"}, "unit_amount"),
        ({"unit_amount": "1E+999999999"}, "unit_amount"),
        ({"unit_amount": "1e-999999999"}, "unit_amount"),
    ],
)
def test_bad_line_items_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "description": "Membership",
        "quantity": Decimal(1),
        "unit_amount": Decimal(10),
    }
    values.update(kwargs)
    with pytest.raises(ValidationError) as excinfo:
        LineItem(**values)  # type: ignore[arg-type]
    assert field_of(excinfo) == (field,)
    assert excinfo.value.errors[0].fix


@pytest.mark.parametrize(
    ("quantity", "unit_amount", "currency"),
    [
        ("9999999999", "9999999999", "NZD"),
        ("2", "5000000000", "NZD"),
        ("1.5", "6666666666.67", "NZD"),
        ("1", "9999999999.5", "JPY"),
    ],
)
def test_a_line_beyond_the_largest_line_amount_is_refused_before_any_call(
    contact: Contact, quantity: str, unit_amount: str, currency: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        InvoiceRequest(
            contact=contact,
            line_items=[LineItem("Fee", "1", "10"), LineItem("Big", quantity, unit_amount)],
            currency=currency,
            issue_date=date(2026, 7, 1),
            due_date=date(2026, 7, 31),
        )
    assert field_of(excinfo) == ("line_items[1]",)
    assert "9,999,999,999.99" in excinfo.value.errors[0].message
    assert excinfo.value.errors[0].fix


def test_the_largest_amounts_are_accepted(contact: Contact) -> None:
    request = InvoiceRequest(
        contact=contact,
        line_items=[LineItem("Big", "1", MAX_AMOUNT), LineItem("Many", MAX_AMOUNT, "1")],
        currency="NZD",
        issue_date=date(2026, 7, 1),
        due_date=date(2026, 7, 31),
    )
    assert [line.line_amount("NZD") for line in request.line_items] == [MAX_AMOUNT] * 2
    assert Decimal("9999999999.99") == MAX_AMOUNT


def test_line_item_accepts_strings_and_four_decimal_places() -> None:
    item = LineItem("Seat", "3", "0.3333")
    assert item.quantity == Decimal(3)
    assert item.line_amount("NZD") == Decimal("1.00")
    assert item.line_amount("JPY") == Decimal("1")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"currency": "nzd"}, "currency"),
        ({"currency": "NZDX"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"due_date": date(2026, 6, 30)}, "due_date"),
        ({"line_items": []}, "line_items"),
        ({"line_items": [LineItem("Refund", 1, "-5")]}, "line_items"),
        ({"reference": "r" * 256}, "reference"),
    ],
)
def test_bad_invoice_requests_are_refused_naming_the_field(
    invoice_request: InvoiceRequest, kwargs: dict[str, object], field: str
) -> None:
    values = {
        "contact": invoice_request.contact,
        "line_items": invoice_request.line_items,
        "currency": "NZD",
        "issue_date": date(2026, 7, 1),
        "due_date": date(2026, 7, 31),
    }
    values.update(kwargs)
    with pytest.raises(ValidationError) as excinfo:
        InvoiceRequest(**values)  # type: ignore[arg-type]
    assert field_of(excinfo) == (field,)


def test_a_discount_line_is_allowed_while_the_total_stays_positive(contact: Contact) -> None:
    request = InvoiceRequest(
        contact=contact,
        line_items=[LineItem("Fee", 1, "100"), LineItem("Early-bird discount", 1, "-20")],
        currency="NZD",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 1),
    )
    assert request.line_items[1].unit_amount == -20
    assert request.amount_type is None  # the provider's default


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"account_reference": ""}, "account_reference"),
        ({"account_reference": "x" * 51}, "account_reference"),
        ({"name": ""}, "name"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "a b@example.org"}, "email"),
    ],
)
def test_bad_contacts_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"account_reference": "a-1", "name": "Ada"}
    values.update(kwargs)
    with pytest.raises(ValidationError) as excinfo:
        Contact(**values)  # type: ignore[arg-type]
    assert field_of(excinfo) == (field,)


def test_structuring_reports_nested_paths() -> None:
    data = {
        "contact": {"account_reference": "a", "name": ""},
        "line_items": [
            {"description": "ok", "quantity": "1", "unit_amount": "1"},
            {"description": "d", "quantity": "1", "unit_amount": "NaN"},
        ],
        "currency": "NZD",
        "issue_date": "2026-01-01",
        "due_date": "2026-01-02",
    }
    with pytest.raises(ValidationError) as excinfo:
        structure(data, InvoiceRequest)
    assert set(excinfo.value.fields) == {"contact.name", "line_items[1].unit_amount"}


def test_structuring_refuses_float_money() -> None:
    data = {"description": "d", "quantity": 1, "unit_amount": 0.1}
    with pytest.raises(ValidationError) as excinfo:
        structure(data, LineItem)
    assert excinfo.value.fields == ("unit_amount",)


amounts = st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False)


@given(
    name=st.text(min_size=1, max_size=255).filter(str.strip),
    quantity=st.decimals(min_value=0, max_value=10**4, places=4, allow_nan=False),
    unit=amounts,
    amount_type=st.sampled_from(AmountType),
)
def test_requests_survive_a_json_round_trip_exactly(
    name: str, quantity: Decimal, unit: Decimal, amount_type: AmountType
) -> None:
    request = InvoiceRequest(
        contact=Contact("acct", name),
        line_items=[LineItem("Item", quantity, unit)],
        currency="NZD",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 2, 1),
        amount_type=amount_type,
    )
    data = unstructure(request)
    assert isinstance(data["line_items"][0]["unit_amount"], str), "money must not become float"
    assert structure(data, InvoiceRequest) == request
