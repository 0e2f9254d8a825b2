"""What the suite expects, computed independently of the core and of any provider.

Invoice arithmetic is re-derived here from the rules a provider declares (its
:class:`~ams_billing.core.behaviour.TaxModel`: per line or per invoice, half away from zero, or
no tax), so a bug shared by the core and the fake still fails the suite. Also here:
a listener that records what it hears, and ways to tamper with a signed webhook delivery.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import attrs

from ams_billing.core.behaviour import TaxModel
from ams_billing.core.errors import (
    IdempotencyConflictError,
    ValidationError,
    WebhookVerificationError,
)
from ams_billing.core.hookspecs import hookimpl
from ams_billing.core.models import AmountType, Invoice, InvoiceChange, InvoiceRequest, LineItem
from ams_billing.testing.harness import ContractHarness, SignedDelivery

__all__ = [
    "ExpectedTotals",
    "RecordingListener",
    "check_conflict",
    "check_explained",
    "expected_line",
    "expected_totals",
    "invoices_with_reference",
    "minor_unit_places",
    "money",
    "reformatted",
    "retargeted",
    "signature_headers",
]


# ISO 4217 minor units other than 2, kept here apart from the core's table on purpose: a wrong
# entry shared by the core and a provider must still fail the suite.
_ZERO_PLACES = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_PLACES = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_PLACES = "CLF UYW"
_PLACES = {
    **dict.fromkeys(_ZERO_PLACES.split(), 0),
    **dict.fromkeys(_THREE_PLACES.split(), 3),
    **dict.fromkeys(_FOUR_PLACES.split(), 4),
}


def minor_unit_places(currency: str) -> int:
    """The decimal places of the currency's minor unit (ISO 4217): 2 unless listed above."""
    return _PLACES.get(currency, 2)


def money(value: Decimal, currency: str) -> Decimal:
    """Round ``value`` half away from zero to the currency's minor unit."""
    step = Decimal(1).scaleb(-minor_unit_places(currency))
    return value.quantize(step, rounding=ROUND_HALF_UP)


def expected_line(
    item: LineItem, amount_type: AmountType, tax_rate: Decimal, currency: str
) -> tuple[Decimal, Decimal]:
    """The line amount and tax a provider must report for ``item``."""
    line_amount = money(item.quantity * item.unit_amount, currency)
    if amount_type is AmountType.NO_TAX:
        return line_amount, Decimal(0)
    if amount_type is AmountType.INCLUSIVE:
        return line_amount, money(line_amount * tax_rate / (1 + tax_rate), currency)
    return line_amount, money(line_amount * tax_rate, currency)


@attrs.frozen
class ExpectedTotals:
    """The totals an invoice must report, with each line's amount and tax."""

    lines: tuple[tuple[Decimal, Decimal], ...]
    subtotal: Decimal
    total_tax: Decimal
    total: Decimal


def expected_totals(
    request: InvoiceRequest,
    tax_rate: Decimal,
    tax_model: TaxModel = TaxModel.PER_LINE_HALF_UP,
) -> ExpectedTotals:
    """Per-line amounts and taxes, then the invoice totals, under the declared ``tax_model``.

    ``request`` names its amount type: resolve one that leaves it unset with the provider's
    defaults first (``service.invoice_defaults.apply(request)``). A line naming its own
    ``tax_rate`` (a percentage) is taxed at that rate instead of ``tax_rate``. Per line (Xero),
    each line's tax is rounded and the invoice's is their sum; per invoice, the invoice's tax
    is rounded once per rate from the sum of its lines' amounts (the lines' taxes are still
    given as per line, but do not add up to it); with ``TaxModel.NO_TAX`` every tax is zero.
    """
    if tax_model is TaxModel.NO_TAX:
        request = attrs.evolve(request, amount_type=AmountType.NO_TAX)
    amount_type = request.amount_type
    if amount_type is None:
        raise ValueError("the request names no amount type: apply the provider's defaults first")
    lines = tuple(
        expected_line(
            item,
            amount_type,
            tax_rate if item.tax_rate is None else item.tax_rate / 100,
            request.currency,
        )
        for item in request.line_items
    )
    line_sum = sum((amount for amount, _ in lines), Decimal(0))
    tax = sum((line_tax for _, line_tax in lines), Decimal(0))
    if tax_model is TaxModel.PER_INVOICE_HALF_UP and amount_type is not AmountType.NO_TAX:
        by_rate: dict[Decimal, Decimal] = {}
        for item, (amount, _) in zip(request.line_items, lines, strict=True):
            rate = tax_rate if item.tax_rate is None else item.tax_rate / 100
            by_rate[rate] = by_rate.get(rate, Decimal(0)) + amount
        inclusive = amount_type is AmountType.INCLUSIVE
        tax = sum(
            (
                money(amount * (rate / (1 + rate) if inclusive else rate), request.currency)
                for rate, amount in by_rate.items()
            ),
            Decimal(0),
        )
    if amount_type is AmountType.INCLUSIVE:
        return ExpectedTotals(lines, line_sum - tax, tax, line_sum)
    return ExpectedTotals(lines, line_sum, tax, line_sum + tax)


def invoices_with_reference(
    harness: ContractHarness, since: datetime, reference: str | None
) -> list[Invoice]:
    """The invoices changed since ``since`` that carry ``reference`` (needs CHANGED_SINCE)."""
    changed = harness.service.get_invoices_changed_since(since)
    return [invoice for invoice in changed if invoice.reference == reference]


class RecordingListener:
    """An AMS-side listener that records every ``invoice_changed`` it hears."""

    def __init__(self) -> None:
        self.changes: list[InvoiceChange] = []

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        """Record the change."""
        self.changes.append(change)

    def kinds_for(self, invoice_id: str) -> list[str]:
        """The kinds of change heard for one invoice, in order (``["paid"]`` …)."""
        return [c.kind.value for c in self.changes if c.invoice.provider_id == invoice_id]


def reformatted(delivery: SignedDelivery) -> SignedDelivery:
    """The same JSON with one more space: equal when parsed, different as bytes."""
    body = delivery.body
    return attrs.evolve(delivery, body=body[:1] + b" " + body[1:])


def retargeted(delivery: SignedDelivery) -> SignedDelivery:
    """The body with its first digit changed (a sequence number or an id), headers kept."""
    body = bytearray(delivery.body)
    for index, byte in enumerate(body):
        if 0x30 <= byte <= 0x39:
            body[index] = 0x30 + (byte - 0x30 + 1) % 10
            break
    else:
        body.extend(b" ")
    return attrs.evolve(delivery, body=bytes(body))


def signature_headers(harness: ContractHarness, delivery: SignedDelivery) -> list[str]:
    """The headers of a genuine delivery without which it is refused: those of its signature."""
    needed = [
        name
        for name in delivery.headers
        if _refused(harness, attrs.evolve(delivery, headers=_without(delivery, name)))
    ]
    assert needed, "the delivery verifies without any of its headers: nothing is checked"
    return needed


def _without(delivery: SignedDelivery, name: str) -> dict[str, str]:
    return {key: value for key, value in delivery.headers.items() if key != name}


def _refused(harness: ContractHarness, delivery: SignedDelivery) -> bool:
    try:
        harness.service.parse_webhook(delivery.body, delivery.headers)
    except WebhookVerificationError:
        return True
    return False


def check_explained(error: ValidationError, *fields: str) -> None:
    """``error`` names each of ``fields``, and every field error names a field and says why."""
    named = [field_error.field for field_error in error.errors]
    for field in fields:
        assert field in named, (field, named)
    for field_error in error.errors:
        assert isinstance(field_error.field, str), field_error
        assert field_error.field, field_error
        assert isinstance(field_error.message, str), field_error
        assert field_error.message.strip(), field_error


def check_conflict(error: IdempotencyConflictError, key: str) -> None:
    """A conflict names the ``idempotency_key`` field, explained, and carries the key sent."""
    check_explained(error, "idempotency_key")
    assert error.idempotency_key == key, (error.idempotency_key, key)
