"""Money rules shared by every provider: Decimal only, finite, at a known precision.

Amounts are :class:`~decimal.Decimal` end to end; a float never touches money. Totals and
payments are kept at the currency's minor unit (ISO 4217 exponent, 2 for most currencies); unit
amounts may carry up to :data:`UNIT_AMOUNT_PLACES` decimal places, as accounting systems accept
(Xero's ``unitdp=4``). Rounding is half away from zero, per line, as Xero rounds. No quantity,
unit amount or line amount may exceed :data:`MAX_AMOUNT` in magnitude.

Providers whose wire format counts money in minor units (Stripe's ``amount=1000`` for 10.00
USD) convert with :func:`to_minor_units` and :func:`from_minor_units`. The conversion is exact
or refused: an amount with more places than the currency's minor unit (or not a multiple of the
provider's smallest step, as Stripe's three-decimal currencies must end in 0) raises
:class:`~ams_billing.core.errors.ValidationError` naming the field; it is never rounded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from ams_billing.core.errors import ValidationError

__all__ = [
    "ISO_4217_CODES",
    "MAX_AMOUNT",
    "QUANTITY_PLACES",
    "UNIT_AMOUNT_PLACES",
    "check_magnitude",
    "currency_places",
    "decimal_places",
    "from_minor_units",
    "quantize",
    "significant_places",
    "to_decimal",
    "to_minor_units",
    "validate_currency_code",
]

UNIT_AMOUNT_PLACES = 4
"""The most decimal places a unit amount may have."""

QUANTITY_PLACES = 4
"""The most decimal places a quantity may have."""

MAX_AMOUNT = Decimal("9999999999.99")
"""The largest magnitude of a line amount, and of a quantity or unit amount.

Xero documents a line's ``LineAmount`` as at most 9,999,999,999.99 (its invoices page,
https://developer.xero.com/documentation/api/accounting/invoices); its OpenAPI spec types the
amounts as ``number``/``double`` with no bound, and Xero answers larger ones with a 400. Bounding
the quantity and the unit amount by the same figure is our choice: it keeps ``quantity *
unit_amount`` within 28 significant digits, which the default Decimal context holds exactly, so
rounding a line can never raise.
"""

# ISO 4217 currencies whose minor unit is not 2 decimal places. Every other code uses 2.
_MINOR_UNITS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}  # fmt: skip

_CURRENCY_CODE = re.compile(r"[A-Z]{3}")

# ISO 4217 codes in use (the standard's list one, 2024), funds and metals included.
_ISO_4217_TABLE = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB
EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR
MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB
RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD
TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG
XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL
"""
ISO_4217_CODES = frozenset(_ISO_4217_TABLE.split())
"""Every currency code ISO 4217 lists; a code outside it is refused before any call."""


# The models' input validation, left out of mutation testing (MUTATION.md).
def validate_currency_code(code: str, field: str = "currency") -> str:  # pragma: no mutate block
    """Return ``code`` if it is an ISO 4217 currency code (upper case), else raise."""
    if not isinstance(code, str) or not _CURRENCY_CODE.fullmatch(code):
        raise ValidationError.for_field(
            field,
            f"{code!r} is not a currency code",
            "use a three-letter ISO 4217 code in capitals, such as NZD, AUD or USD",
        )
    if code not in ISO_4217_CODES:
        raise ValidationError.for_field(
            field,
            f"{code} is not an ISO 4217 currency",
            "use a currency your accounting system has enabled, such as NZD, AUD or USD",
        )
    return code


def currency_places(code: str) -> int:
    """The number of decimal places of the currency's minor unit (2 for NZD, 0 for JPY)."""
    return _MINOR_UNITS.get(code, 2)


def decimal_places(value: Decimal) -> int:
    """How many decimal places ``value`` is written with (``Decimal('1.50')`` has 2)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


# The models' input validation, left out of mutation testing (MUTATION.md).
def significant_places(value: Decimal) -> int:  # pragma: no mutate block
    """Decimal places once trailing zeros are dropped (``Decimal('1.50')`` has 1).

    Unlike ``decimal_places(value.normalize())`` it needs no context, so ``1e-999999999`` counts
    999999999 places instead of underflowing to zero.
    """
    _sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or not any(digits):
        return 0
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing))


# The models' input validation, left out of mutation testing (MUTATION.md).
def check_magnitude(value: Decimal, field: str, what: str) -> None:  # pragma: no mutate block
    """Raise :class:`ValidationError` for ``field`` if ``value`` exceeds :data:`MAX_AMOUNT`."""
    if value.copy_abs() > MAX_AMOUNT:
        shown = f"{value:.6g}" if value.adjusted() > 20 else str(value)
        raise ValidationError.for_field(
            field,
            f"{shown} exceeds the limit of ±{MAX_AMOUNT:,} for a {what}",
            f"use a {what} of at most {MAX_AMOUNT:,} in size; split a larger sale into lines",
        )


def quantize(value: Decimal, places: int) -> Decimal:
    """Round ``value`` half away from zero to ``places`` decimal places."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# The models' input validation, left out of mutation testing (MUTATION.md).
def to_decimal(value: object, field: str) -> Decimal:  # pragma: no mutate block
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


def _exponent(currency: str, exponent: int | Mapping[str, int] | None) -> int:
    if isinstance(exponent, int):
        return exponent
    if exponent is not None and currency in exponent:
        return exponent[currency]
    return currency_places(currency)


def to_minor_units(
    amount: Decimal,
    currency: str,
    *,
    field: str,
    exponent: int | Mapping[str, int] | None = None,
    multiple_of: int = 1,
) -> int:
    """``amount`` of ``currency`` as a whole number of minor units (``12.50`` USD → ``1250``).

    :param amount: the amount (a Decimal; negative for a discount).
    :param currency: its ISO 4217 code; its exponent comes from ISO 4217
        (:func:`currency_places`: 2 for USD, 0 for JPY, 3 for KWD) unless ``exponent`` says.
    :param field: the field the amount came from (``"line_items[0].unit_amount"``), named by
        the error.
    :param exponent: the provider's own exponent: one number, or a table by currency code (a
        currency it leaves out takes the ISO 4217 exponent).
    :param multiple_of: the smallest step the provider takes, in minor units: Stripe takes
        three-decimal currencies in steps of 10 (``5.120`` KWD → ``5120``, but not ``5.124``).
    :raises ValidationError: naming ``field``, when the amount is not a whole number of steps;
        it is never rounded.
    """
    value = to_decimal(amount, field)
    places = _exponent(currency, exponent)
    units = _whole(value, places)
    if units is None:
        unit = "whole units" if places == 0 else f"{places} decimal places"
        raise ValidationError.for_field(
            field,
            f"{value} {currency} is not exact in the currency's minor unit ({unit})",
            f"give {_neighbours(value, places, 1)} {currency}; amounts are never rounded for you",
        )
    if units % multiple_of:
        step = Decimal(multiple_of).scaleb(-places)
        raise ValidationError.for_field(
            field,
            f"{value} {currency} is not a multiple of {step} {currency}, the smallest step "
            "the provider takes in this currency",
            f"give {_neighbours(value, places, multiple_of)} {currency}; amounts are never rounded "
            "for you",
        )
    return units


def _whole(value: Decimal, places: int) -> int | None:
    """``value * 10**places`` if it is a whole number, else ``None``; exact at any size."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # to_decimal refused NaN and infinities
    shift = exponent + places
    number = int("".join(map(str, digits)) or "0")
    power: int = 10 ** abs(shift)  # an int: the exponent is never negative
    if shift < 0:
        number, rest = divmod(number, power)
        if rest:
            return None
    else:
        number *= power
    return -number if sign else number


def _neighbours(value: Decimal, places: int, step: int) -> str:
    """The two amounts either side of ``value`` that are whole ``step``s of the minor unit."""
    scaled = value.scaleb(places) / step
    lower = scaled.to_integral_value(rounding=ROUND_FLOOR)
    shown = [(edge * step).scaleb(-places) for edge in (lower, lower + 1)]
    return f"{shown[0]} or {shown[1]}"


def from_minor_units(
    units: int, currency: str, *, exponent: int | Mapping[str, int] | None = None
) -> Decimal:
    """``units`` minor units of ``currency`` as a Decimal at the currency's places.

    ``1250`` USD → ``Decimal("12.50")``; ``500`` JPY → ``Decimal("500")``. ``exponent`` as
    for :func:`to_minor_units`.
    """
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"minor units are a whole number, not {type(units).__name__}")
    return Decimal(units).scaleb(-_exponent(currency, exponent))
