"""Stripe's invoice objects to the core's :class:`~ams_billing.core.models.Invoice`, and back.

================== ================================================================
core               Stripe
================== ================================================================
``provider_id``    ``id`` (``in_…``)
``number``         ``number`` (set at finalization)
``status``         ``status``: draft → DRAFT, open → OPEN, paid → PAID, void → VOID,
                   uncollectible → UNCOLLECTIBLE (a deleted draft: DELETED)
``provider_status`` ``status`` as Stripe sent it
``contact``        ``customer`` with ``customer_name``/``customer_email``: Stripe's
                   snapshot, frozen at finalization; ``metadata[ams_account]``
``currency``       ``currency`` (Stripe's lower case, upper-cased)
``issue_date``     ``metadata[ams_issue_date]`` (else the day of ``created``, UTC)
``due_date``       ``due_date`` (a Unix time: the end of the due day, UTC)
``reference``      ``metadata[ams_reference]`` (also sent as ``description``)
``amount_type``    ``metadata[ams_amount_type]`` (Stripe computes no tax here)
``subtotal``       ``subtotal``; ``total_tax`` = ``total`` - ``subtotal``
``total``          ``total``
``amount_paid``    ``amount_paid``
``amount_due``     ``amount_remaining`` (0 once void)
``updated_at``     the latest of ``created`` and ``status_transitions.*`` (and payments)
``online_url``     ``hosted_invoice_url`` (set at finalization)
line               ``lines.data[]``: ``description``, ``quantity``, ``amount``;
                   ``metadata[ams_unit_amount]``/``[ams_account_code]`` keep the request's
================== ================================================================

Amounts are integers in Stripe's minor units (:mod:`~ams_billing.providers.stripe.money`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from ams_billing.core.errors import ProviderUnavailableError
from ams_billing.core.models import (
    AmountType,
    ContactRecord,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from ams_billing.providers.stripe.money import from_stripe_amount

__all__ = [
    "ACCOUNT_KEY",
    "STATUSES",
    "due_timestamp",
    "invoice_lines",
    "to_contact_record",
    "to_invoice",
]

ACCOUNT_KEY = "ams_account"
"""The metadata key under which customers (and their invoices) carry the account reference."""

STATUSES: Mapping[str, InvoiceStatus] = {
    "draft": InvoiceStatus.DRAFT,
    "open": InvoiceStatus.OPEN,
    "paid": InvoiceStatus.PAID,
    "void": InvoiceStatus.VOID,
    "uncollectible": InvoiceStatus.UNCOLLECTIBLE,
    "deleted": InvoiceStatus.DELETED,
}
"""Stripe's invoice statuses to the core's."""

_ZERO = Decimal(0)


def due_timestamp(due: date) -> int:
    """The Unix time sent as ``due_date``: the last second of the due day, UTC."""
    return int(datetime.combine(due, time(23, 59, 59), UTC).timestamp())


def _moment(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return datetime.fromtimestamp(int(value), UTC)


def _day(value: object) -> date | None:
    moment = _moment(value)
    return moment.date() if moment is not None else None


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def _metadata(data: Mapping[str, Any]) -> Mapping[str, Any]:
    value = data.get("metadata")
    return value if isinstance(value, Mapping) else {}


def _units(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return 0
    return int(value)


def to_contact_record(customer: Mapping[str, Any]) -> ContactRecord:
    """A Stripe customer object as the core's contact record."""
    return ContactRecord(
        provider_id=str(customer.get("id") or ""),
        account_reference=_text(_metadata(customer), ACCOUNT_KEY),
        name=_text(customer, "name") or "",
        email=_text(customer, "email"),
    )


def _updated_at(data: Mapping[str, Any]) -> datetime:
    moments = [data.get("created")]
    transitions = data.get("status_transitions")
    if isinstance(transitions, Mapping):
        moments.extend(transitions.values())
    payments = data.get("payments")
    if isinstance(payments, Mapping) and isinstance(payments.get("data"), list):
        for payment in payments["data"]:
            if isinstance(payment, Mapping):
                moments.append(payment.get("created"))
                paid = payment.get("status_transitions")
                if isinstance(paid, Mapping):
                    moments.extend(paid.values())
    seen = [m for m in (_moment(value) for value in moments) if m is not None]
    return max(seen) if seen else datetime.fromtimestamp(0, UTC)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def invoice_lines(lines: Sequence[Mapping[str, Any]], currency: str) -> tuple[InvoiceLine, ...]:
    """Stripe's line items as the core's lines, in the order the request gave them."""
    mapped: list[tuple[int, InvoiceLine]] = []
    for position, line in enumerate(lines):
        metadata = _metadata(line)
        amount = from_stripe_amount(_units(line, "amount"), currency)
        quantity = _decimal(line.get("quantity_decimal")) or _decimal(line.get("quantity"))
        quantity = quantity if quantity is not None else Decimal(1)
        unit = _decimal(metadata.get("ams_unit_amount"))
        if unit is None:
            unit = amount / quantity if quantity else amount
        index = _decimal(metadata.get("ams_line"))
        order = int(index) if index is not None else 1_000_000 + position
        mapped.append(
            (
                order,
                InvoiceLine(
                    description=_text(line, "description") or "",
                    quantity=quantity,
                    unit_amount=unit,
                    line_amount=amount,
                    tax_amount=_tax(line, currency),
                    account_code=_text(metadata, "ams_account_code"),
                ),
            )
        )
    return tuple(line for _, line in sorted(mapped, key=lambda pair: pair[0]))


def _tax(line: Mapping[str, Any], currency: str) -> Decimal:
    taxes = line.get("taxes")
    if not isinstance(taxes, list):
        return _ZERO
    units = sum(_units(tax, "amount") for tax in taxes if isinstance(tax, Mapping))
    return from_stripe_amount(units, currency)


def to_invoice(
    data: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]] | None = None,
    *,
    status: str | None = None,
) -> Invoice:
    """A Stripe invoice object as the core's invoice.

    ``lines`` are the invoice's full line list when it was paged (else its embedded page);
    ``status`` overrides Stripe's (``deleted`` for a deleted draft).
    """
    invoice_id = _text(data, "id")
    currency_code = _text(data, "currency")
    if invoice_id is None or currency_code is None:
        raise ProviderUnavailableError("Stripe answered with an invoice without id or currency")
    currency = currency_code.upper()
    raw = status or _text(data, "status") or "draft"
    mapped_status = STATUSES.get(raw)
    if mapped_status is None:
        raise ProviderUnavailableError(f"Stripe answered with an unknown invoice status {raw!r}")
    metadata = _metadata(data)
    if lines is None:
        embedded = data.get("lines")
        lines = (
            embedded["data"]
            if isinstance(embedded, Mapping) and isinstance(embedded.get("data"), list)
            else []
        )
    total = from_stripe_amount(_units(data, "total"), currency)
    subtotal = from_stripe_amount(_units(data, "subtotal"), currency)
    paid = from_stripe_amount(_units(data, "amount_paid"), currency)
    remaining = from_stripe_amount(_units(data, "amount_remaining"), currency)
    if mapped_status in (InvoiceStatus.VOID, InvoiceStatus.DELETED, InvoiceStatus.PAID):
        remaining = _ZERO
    amount_type = _text(metadata, "ams_amount_type")
    issued = _text(metadata, "ams_issue_date")
    transitions = data.get("status_transitions")
    paid_at = transitions.get("paid_at") if isinstance(transitions, Mapping) else None
    customer = data.get("customer")
    customer_id = customer.get("id") if isinstance(customer, Mapping) else customer
    return Invoice(
        provider_id=invoice_id,
        number=_text(data, "number"),
        status=mapped_status,
        provider_status=raw,
        contact=ContactRecord(
            provider_id=str(customer_id or ""),
            account_reference=_text(metadata, ACCOUNT_KEY),
            name=_text(data, "customer_name") or "",
            email=_text(data, "customer_email"),
        ),
        currency=currency,
        issue_date=date.fromisoformat(issued)
        if issued
        else _day(data.get("created")) or date.today(),
        due_date=_day(data.get("due_date")),
        reference=_text(metadata, "ams_reference"),
        amount_type=AmountType(amount_type)
        if amount_type in AmountType.__members__
        else AmountType.NO_TAX,
        subtotal=subtotal,
        total_tax=total - subtotal,
        total=total,
        amount_paid=paid,
        amount_due=remaining,
        updated_at=_updated_at(data),
        fully_paid_on=_day(paid_at) if mapped_status is InvoiceStatus.PAID else None,
        line_items=invoice_lines(lines, currency),
        online_url=_text(data, "hosted_invoice_url"),
    )
