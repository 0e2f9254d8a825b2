"""Minor units: exact both ways, or refused with the field named; never rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ams_billing.core.errors import ValidationError
from ams_billing.core.money import ISO_4217_CODES, currency_places, from_minor_units, to_minor_units

# Stripe's exponents where they differ from ISO 4217 (reference/stripe-api.md 3.4): MGA is
# zero-decimal for Stripe, and its three-decimal currencies take steps of 10 minor units.
STRIPE_EXPONENTS = {"MGA": 0}
FIELD = "line_items[0].unit_amount"


@given(st.integers(-(10**20), 10**20), st.sampled_from(sorted(ISO_4217_CODES)))
def test_minor_units_round_trip(units: int, currency: str) -> None:
    amount = from_minor_units(units, currency)
    assert to_minor_units(amount, currency, field=FIELD) == units
    assert amount == Decimal(units) / 10 ** currency_places(currency)


@given(
    st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False),
    st.sampled_from(["USD", "NZD", "EUR"]),
)
def test_an_exact_amount_converts_and_comes_back_equal(amount: Decimal, currency: str) -> None:
    units = to_minor_units(amount, currency, field=FIELD)
    assert from_minor_units(units, currency) == amount
    assert units == amount * 100


@given(st.integers(-(10**9), 10**9))
def test_a_step_of_ten_round_trips_for_three_decimal_currencies(tens: int) -> None:
    amount = from_minor_units(tens * 10, "KWD")
    assert to_minor_units(amount, "KWD", field=FIELD, multiple_of=10) == tens * 10


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("12.50", "USD", 1250),
        ("12.5", "USD", 1250),
        ("-0.05", "USD", -5),
        ("0", "USD", 0),
        ("500", "JPY", 500),
        ("1E+3", "JPY", 1000),
        ("500.000", "JPY", 500),
        ("5.124", "KWD", 5124),
        ("0.001", "BHD", 1),
        ("99999999999999999999999999999.99", "USD", 9999999999999999999999999999999),
    ],
)
def test_known_conversions(amount: str, currency: str, units: int) -> None:
    assert to_minor_units(Decimal(amount), currency, field=FIELD) == units


@pytest.mark.parametrize(
    ("amount", "currency", "options", "message", "fix"),
    [
        ("100.5", "JPY", {}, "100.5 JPY is not exact", "give 100 or 101 JPY"),
        ("0.001", "USD", {}, "0.001 USD is not exact", "give 0.00 or 0.01 USD"),
        ("-1.001", "USD", {}, "-1.001 USD is not exact", "give -1.01 or -1.00 USD"),
        ("5.1245", "KWD", {}, "5.1245 KWD is not exact", "give 5.124 or 5.125 KWD"),
        (
            "5.124",
            "KWD",
            {"multiple_of": 10},
            "5.124 KWD is not a multiple of 0.010 KWD",
            "give 5.120 or 5.130 KWD",
        ),
        (
            "0.005",
            "BHD",
            {"multiple_of": 10},
            "0.005 BHD is not a multiple of 0.010 BHD",
            "give 0.000 or 0.010 BHD",
        ),
        ("12.5", "MGA", {"exponent": STRIPE_EXPONENTS}, "12.5 MGA is not exact", "give 12 or 13"),
        ("1.5", "USD", {"exponent": 0}, "1.5 USD is not exact", "give 1 or 2 USD"),
    ],
)
def test_an_amount_that_is_not_exact_is_refused_naming_the_field_and_the_fix(
    amount: str, currency: str, options: dict[str, object], message: str, fix: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        to_minor_units(Decimal(amount), currency, field=FIELD, **options)  # type: ignore[arg-type]
    (error,) = raised.value.errors
    assert error.field == FIELD
    assert message in error.message
    assert error.fix is not None
    assert fix in error.fix
    assert "never rounded" in error.fix


def test_a_provider_exponent_table_overrides_iso_only_for_its_currencies() -> None:
    assert to_minor_units(Decimal("12"), "MGA", field=FIELD, exponent=STRIPE_EXPONENTS) == 12
    assert to_minor_units(Decimal("12"), "MGA", field=FIELD) == 1200  # ISO 4217: 2 places
    assert to_minor_units(Decimal("1.25"), "USD", field=FIELD, exponent=STRIPE_EXPONENTS) == 125
    assert from_minor_units(12, "MGA", exponent=STRIPE_EXPONENTS) == Decimal(12)


def test_floats_and_non_integers_are_refused() -> None:
    with pytest.raises(ValidationError, match=FIELD.replace("[", r"\[").replace("]", r"\]")):
        to_minor_units(1.5, "USD", field=FIELD)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        from_minor_units(Decimal(1), "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        from_minor_units(True, "USD")
