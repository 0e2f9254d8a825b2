"""Stripe's amounts: integers in the currency's smallest unit, by Stripe's own table (3.4).

Stripe's exponent differs from ISO 4217's in places: **zero-decimal** currencies (JPY, KRW, …:
``500`` is ¥500) include MGA, which ISO gives two decimals; **three-decimal** currencies (BHD,
JOD, KWD, OMR, TND) take three-decimal amounts whose last digit must be 0 (``5120`` is 5.120
KWD; 5.124 is refused); ISK is sent with two decimals, in whole krónur (a multiple of 100).
Every other currency has two decimals. An amount that is not a whole number of steps raises
:class:`~ams_billing.core.errors.ValidationError` naming its field: it is never rounded.
"""

from __future__ import annotations

from decimal import Decimal

from ams_billing.core.money import from_minor_units, to_minor_units

__all__ = [
    "STRIPE_EXPONENTS",
    "THREE_DECIMAL",
    "ZERO_DECIMAL",
    "from_stripe_amount",
    "minor_unit_price",
    "to_stripe_amount",
]

ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA"}
    | {"PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
"""Currencies Stripe takes in whole units (https://docs.stripe.com/currencies)."""

THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
"""Currencies Stripe takes with three decimals, the last one 0."""

STRIPE_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(ZERO_DECIMAL, 0),
    **dict.fromkeys(THREE_DECIMAL, 3),
    "ISK": 2,
}
"""Stripe's exponent where it differs from, or must be pinned against, ISO 4217's."""

_STEPS = {**dict.fromkeys(THREE_DECIMAL, 10), "ISK": 100}


def exponent(currency: str) -> int:
    """Stripe's decimal places for ``currency`` (upper-case ISO code)."""
    return STRIPE_EXPONENTS.get(currency, 2)


def to_stripe_amount(amount: Decimal, currency: str, *, field: str) -> int:
    """``amount`` in Stripe's minor units; refused (naming ``field``) when not exact."""
    return to_minor_units(
        amount,
        currency,
        field=field,
        exponent=STRIPE_EXPONENTS,
        multiple_of=_STEPS.get(currency, 1),
    )


def from_stripe_amount(units: int, currency: str) -> Decimal:
    """Stripe's ``units`` of ``currency`` as a Decimal amount."""
    return from_minor_units(int(units), currency, exponent=STRIPE_EXPONENTS)


def minor_unit_price(unit_amount: Decimal, currency: str) -> Decimal:
    """A unit price in minor units, fractions kept (``unit_amount_decimal``, up to 12 places)."""
    return unit_amount.scaleb(exponent(currency)).normalize() + Decimal(0)
