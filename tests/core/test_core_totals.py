from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from ams_billing import AmountType, LineItem
from ams_billing.core.totals import compute_line, compute_totals

RATE = Decimal("0.15")


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_tax_is_rounded_per_line_not_on_the_total() -> None:
    # Three lines of 0.10 at 15 %: per line 0.015 rounds to 0.02 each (0.06 in all), while
    # taxing the 0.30 total would give 0.05. Xero reports 0.06.
    lines = [
        compute_line(LineItem("x", 1, "0.10"), AmountType.EXCLUSIVE, RATE, "NZD", "200")
        for _ in range(3)
    ]
    totals = compute_totals(lines, AmountType.EXCLUSIVE)
    assert totals.total_tax == Decimal("0.06")
    assert totals.total == Decimal("0.36")


def test_inclusive_lines_carry_their_tax() -> None:
    line = compute_line(LineItem("Fee", 1, "115.00"), AmountType.INCLUSIVE, RATE, "NZD", None)
    totals = compute_totals([line], AmountType.INCLUSIVE)
    assert (totals.subtotal, totals.total_tax, totals.total) == (
        Decimal("100.00"),
        Decimal("15.00"),
        Decimal("115.00"),
    )


def test_no_tax_lines_have_none() -> None:
    line = compute_line(LineItem("Fee", 2, "9.99"), AmountType.NO_TAX, RATE, "NZD", None)
    assert compute_totals([line], AmountType.NO_TAX).total == Decimal("19.98")
    assert line.tax_amount == 0


@given(
    items=st.lists(
        st.tuples(
            st.decimals(min_value=0, max_value=1000, places=2),
            st.decimals(min_value=0, max_value=10000, places=4),
        ),
        min_size=1,
        max_size=20,
    ),
    amount_type=st.sampled_from(AmountType),
)
def test_totals_add_up_for_any_lines(
    items: list[tuple[Decimal, Decimal]], amount_type: AmountType
) -> None:
    lines = [compute_line(LineItem("x", q, u), amount_type, RATE, "NZD", None) for q, u in items]
    totals = compute_totals(lines, amount_type)
    assert totals.subtotal + totals.total_tax == totals.total
    for (quantity, unit), line in zip(items, lines, strict=True):
        assert line.line_amount == cents(quantity * unit)
        if amount_type is AmountType.EXCLUSIVE:
            assert line.tax_amount == cents(line.line_amount * RATE)
        elif amount_type is AmountType.INCLUSIVE:
            assert line.tax_amount == cents(line.line_amount * RATE / (1 + RATE))
        else:
            assert line.tax_amount == 0
