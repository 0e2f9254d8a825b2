"""Money rules shared by every provider: Decimal only, finite, at a known precision.

Amounts are :class:`~decimal.Decimal` end to end; a float never touches money. Totals and
payments are kept at the currency's minor unit (ISO 4217 exponent, 2 for most currencies); unit
amounts may carry up to :data:`UNIT_AMOUNT_PLACES` decimal places, as accounting systems accept
(Xero's ``unitdp=4``). Rounding is half away from zero, per line, as Xero rounds.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ams.billing.core.errors import ValidationError

__all__ = [
    "QUANTITY_PLACES",
    "UNIT_AMOUNT_PLACES",
    "currency_places",
    "decimal_places",
    "quantize",
    "to_decimal",
    "validate_currency_code",
]

UNIT_AMOUNT_PLACES = 4
"""The most decimal places a unit amount may have."""

QUANTITY_PLACES = 4
"""The most decimal places a quantity may have."""

# ISO 4217 currencies whose minor unit is not 2 decimal places. Every other code uses 2.
_MINOR_UNITS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}  # fmt: skip

_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


def validate_currency_code(code: str, field: str = "currency") -> str:
    """Return ``code`` if it is a three-letter upper-case ISO 4217 code, else raise."""
    if not isinstance(code, str) or not _CURRENCY_CODE.fullmatch(code):
        raise ValidationError.for_field(
            field,
            f"{code!r} is not a currency code",
            "use a three-letter ISO 4217 code in capitals, such as NZD, AUD or USD",
        )
    return code


def currency_places(code: str) -> int:
    """The number of decimal places of the currency's minor unit (2 for NZD, 0 for JPY)."""
    return _MINOR_UNITS.get(code, 2)


def decimal_places(value: Decimal) -> int:
    """How many decimal places ``value`` is written with (``Decimal('1.50')`` has 2)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def quantize(value: Decimal, places: int) -> Decimal:
    """Round ``value`` half away from zero to ``places`` decimal places."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def to_decimal(value: object, field: str) -> Decimal:
    """Convert ``value`` to a finite Decimal, naming ``field`` when it cannot be.

    Floats are refused: ``0.1`` is not one tenth, and money must not pretend it is. Pass a
    string or a Decimal.
    """
    if isinstance(value, (bool, float)):
        raise ValidationError.for_field(
            field,
            f"{value!r} is a {type(value).__name__}, not an exact amount",
            "pass a Decimal or a string such as '12.50'",
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValidationError.for_field(
                field, f"{value!r} is not a number", "pass a Decimal or a string such as '12.50'"
            ) from None
    else:
        raise ValidationError.for_field(
            field, f"expected a Decimal, got {type(value).__name__}", "pass a Decimal"
        )
    if not result.is_finite():
        raise ValidationError.for_field(
            field, f"{value!r} is not a finite amount", "pass a finite Decimal such as '12.50'"
        )
    return result
