from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ams_billing.core.exactjson import dumps


def test_decimals_keep_every_digit() -> None:
    assert dumps({"Amount": Decimal("10.10"), "Rate": Decimal("0.0001")}) == (
        b'{"Amount":10.10,"Rate":0.0001}'
    )
    assert dumps([Decimal("-0.00"), None, True, "é"]) == b'[0.00,null,true,"\\u00e9"]'


def test_floats_and_non_finite_amounts_are_refused() -> None:
    with pytest.raises(TypeError):
        dumps({"Amount": 0.1})
    assert dumps({"x": 0.5}, allow_float=True) == b'{"x":0.5}'
    with pytest.raises(ValueError, match="NaN"):
        dumps(Decimal("NaN"))


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4))
def test_what_is_written_parses_back_to_the_same_amount(amount: Decimal) -> None:
    assert json.loads(dumps([amount]), parse_float=Decimal, parse_int=Decimal) == [amount]
