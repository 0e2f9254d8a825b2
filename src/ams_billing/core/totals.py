"""Invoice arithmetic as Xero does it: tax per line, rounded per line, then summed.

Systems that tax the invoice total instead can differ from Xero by a cent; matching its
per-line rounding keeps the fake provider, the emulator and the contract suite in agreement
with what a real Xero organisation reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs

from ams_billing.core.models import AmountType, InvoiceLine, LineItem
from ams_billing.core.money import currency_places, quantize

__all__ = ["InvoiceTotals", "compute_line", "compute_totals"]


@attrs.frozen
class InvoiceTotals:
    """The totals of an invoice: ``subtotal + total_tax == total``."""

    subtotal: Decimal
    total_tax: Decimal
    total: Decimal


def compute_line(
    item: LineItem,
    amount_type: AmountType,
    tax_rate: Decimal,
    currency: str,
    account_code: str | None,
) -> InvoiceLine:
    """Compute one line's amount and tax; ``tax_rate`` is a fraction (``0.15`` for 15 %)."""
    places = currency_places(currency)
    line_amount = item.line_amount(currency)
    if amount_type is AmountType.NO_TAX:
        tax = Decimal(0)
    elif amount_type is AmountType.INCLUSIVE:
        tax = quantize(line_amount * tax_rate / (1 + tax_rate), places)
    else:
        tax = quantize(line_amount * tax_rate, places)
    return InvoiceLine(
        description=item.description,
        quantity=item.quantity,
        unit_amount=item.unit_amount,
        line_amount=line_amount,
        tax_amount=tax,
        account_code=account_code,
    )


def compute_totals(lines: Sequence[InvoiceLine], amount_type: AmountType) -> InvoiceTotals:
    """Sum computed lines into the invoice's subtotal, tax and total."""
    line_sum = sum((line.line_amount for line in lines), Decimal(0))
    tax = sum((line.tax_amount for line in lines), Decimal(0))
    if amount_type is AmountType.INCLUSIVE:
        return InvoiceTotals(subtotal=line_sum - tax, total_tax=tax, total=line_sum)
    return InvoiceTotals(subtotal=line_sum, total_tax=tax, total=line_sum + tax)
