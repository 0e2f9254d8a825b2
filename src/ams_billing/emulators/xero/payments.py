"""``/Payments``: apply payments to AUTHORISED invoices and delete them.

Rules (xero-api.md §5): only AUTHORISED invoices; the amount must be positive and not above the
amount due ("Payment amount exceeds the amount outstanding on this document"); the account must
be BANK or have ``EnablePaymentsToAccount``; reaching zero due makes the invoice PAID with
``FullyPaidOnDate``; deleting a payment (``{"Status":"DELETED"}`` or
``{"Payments":[{"Status":"DELETED"}]}``) returns a PAID invoice to AUTHORISED ([U] but expected).
Each change queues an INVOICE UPDATE webhook (payments have no webhook category).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from ams_billing.emulators.common.messages import EmulatorResponse

from . import shapes, wire
from .books import Account, Invoice, Payment
from .context import ElementResult, RequestContext, batch_response
from .query import paginate

__all__ = ["apply_payment", "handle_payments", "payment_json"]

EXCEEDS = "Payment amount exceeds the amount outstanding on this document"
NOT_AUTHORISED = "Payments can only be made against Authorised documents"  # [U]
BAD_ACCOUNT = "Account type is invalid for making a payment to/from"  # [U]
NOT_FOUND = "The document with the supplied id was not found for this endpoint."


def payment_json(ctx: RequestContext, payment: Payment) -> dict[str, Any]:
    """One payment's JSON."""
    invoice = ctx.books.invoices[payment.invoice_id]
    account = ctx.books.accounts[payment.account_id]
    contact = ctx.books.contacts[invoice.contact_id]
    return {
        "PaymentID": payment.payment_id,
        "Date": wire.ms_date(payment.date),
        "BankAmount": payment.amount,
        "Amount": payment.amount,
        "Reference": payment.reference or "",
        "CurrencyRate": Decimal("1.000000"),
        "PaymentType": "ACCRECPAYMENT" if invoice.type == "ACCREC" else "ACCPAYPAYMENT",
        "Status": payment.status,
        "UpdatedDateUTC": wire.ms_datetime(payment.updated),
        "UpdatedDateUTCString": payment.updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "HasAccount": True,
        "IsReconciled": payment.is_reconciled,
        "Account": {"AccountID": account.account_id, "Code": account.code},
        "Invoice": {
            "Type": invoice.type,
            "InvoiceID": invoice.invoice_id,
            "InvoiceNumber": invoice.invoice_number,
            "Contact": {"ContactID": contact.contact_id, "Name": contact.name},
            "CurrencyCode": invoice.currency_code,
            "LineItems": [],
        },
        "HasValidationErrors": False,
    }


def _account(ctx: RequestContext, data: Mapping[str, Any]) -> Account | None:
    raw = data.get("Account")
    if isinstance(raw, Mapping):
        if raw.get("AccountID"):
            return ctx.books.accounts.get(str(raw["AccountID"]).lower())
        if raw.get("Code"):
            return ctx.books.account_by_code(str(raw["Code"]))
    if data.get("Code"):
        return ctx.books.account_by_code(str(data["Code"]))
    return None


def _invoice(ctx: RequestContext, data: Mapping[str, Any]) -> Invoice | None:
    raw = data.get("Invoice")
    if isinstance(raw, Mapping):
        if raw.get("InvoiceID"):
            return ctx.books.invoices.get(str(raw["InvoiceID"]).lower())
        if raw.get("InvoiceNumber"):
            return ctx.books.invoice_by_number(str(raw["InvoiceNumber"]))
    if data.get("InvoiceNumber"):
        return ctx.books.invoice_by_number(str(data["InvoiceNumber"]))
    return None


def apply_payment(
    ctx: RequestContext,
    invoice: Invoice | None,
    account: Account | None,
    amount: Any,
    *,
    when: Any = None,
    reference: str | None = None,
) -> tuple[Payment | None, list[str]]:
    """Validate and record a payment; return it or the validation messages."""
    errors: list[str] = []
    if invoice is None:
        errors.append(NOT_FOUND)
    elif invoice.status != "AUTHORISED":
        errors.append(NOT_AUTHORISED)
    if account is None:
        errors.append("Account code or AccountID must be specified")  # [U]
    elif not account.accepts_payments:
        errors.append(BAD_ACCOUNT)
    value = Decimal(0)
    try:
        given = wire.to_decimal(amount)
    except ValueError:
        errors.append("Amount must be a valid number")  # [U]
    else:
        if wire.in_range(given):
            value = wire.quantize(given)
        else:
            errors.append(f"Amount {wire.OUT_OF_RANGE}")
    if not errors and value <= 0:
        errors.append("Payment amount must be greater than zero")  # [U]
    if not errors and invoice is not None and value > invoice.amount_due:
        errors.append(EXCEEDS)
    pay_date: date = ctx.today()
    if when is not None and when != "":
        try:
            pay_date = wire.parse_xero_date(when)
        except ValueError:
            errors.append(f"Date '{when}' is not a valid date")  # [U]
    if errors or invoice is None or account is None:
        return None, errors
    payment = Payment(
        payment_id=ctx.ids.uuid(),
        invoice_id=invoice.invoice_id,
        account_id=account.account_id,
        date=pay_date,
        amount=value,
        updated=ctx.now,
        reference=reference,
    )
    ctx.books.payments[payment.payment_id] = payment
    invoice.amount_paid += value
    if invoice.amount_due == 0:
        invoice.status = "PAID"
        invoice.fully_paid_on = max(p.date for p in ctx.books.payments_of(invoice.invoice_id))
    invoice.updated = ctx.now
    ctx.emit("INVOICE", "UPDATE", invoice.invoice_id)
    return payment, []


def _create(ctx: RequestContext, data: Any) -> ElementResult:
    if not isinstance(data, Mapping):
        return ElementResult({}, ("A Payment must be an object",))  # [U]
    reference = data.get("Reference")
    payment, errors = apply_payment(
        ctx,
        _invoice(ctx, data),
        _account(ctx, data),
        data.get("Amount"),
        when=data.get("Date"),
        reference=reference if isinstance(reference, str) else None,
    )
    if payment is None:
        return ElementResult(shapes.echo(shapes.PAYMENT, data), tuple(errors))
    return ElementResult(payment_json(ctx, payment))


def _delete(ctx: RequestContext, payment: Payment) -> EmulatorResponse:
    body = ctx.json_body()
    if isinstance(body, Mapping) and isinstance(body.get("Payments"), list):
        items = body["Payments"]
        body = items[0] if len(items) == 1 else None
    if not isinstance(body, Mapping) or body.get("Status") != "DELETED":
        raise ctx.bad_request("A payment can only be updated to a Status of DELETED")  # [U]
    if payment.status == "DELETED":
        raise ctx.bad_request("This payment has already been deleted")  # [U]
    payment.status = "DELETED"
    payment.updated = ctx.now
    invoice = ctx.books.invoices[payment.invoice_id]
    invoice.amount_paid -= payment.amount
    if invoice.status == "PAID":
        invoice.status = "AUTHORISED"
        invoice.fully_paid_on = None
    invoice.updated = ctx.now
    ctx.emit("INVOICE", "UPDATE", invoice.invoice_id)
    return ctx.ok("Payments", [payment_json(ctx, payment)])


def handle_payments(ctx: RequestContext, method: str, parts: list[str]) -> EmulatorResponse:
    """Dispatch ``/Payments`` and ``/Payments/{PaymentID}``."""
    if len(parts) == 1:
        if method == "GET":
            payments = sorted(ctx.books.payments.values(), key=lambda p: (p.updated, p.payment_id))
            since = ctx.modified_since()
            if since is not None:
                payments = [p for p in payments if p.updated >= since]
            records = ctx.filtered([payment_json(ctx, p) for p in payments])
            paging = ctx.paging()
            if paging is None:
                return ctx.ok("Payments", records)
            page, pagination = paginate(records, *paging)
            return ctx.ok("Payments", page, pagination)
        elements = ctx.elements("Payments")
        if method == "POST" and len(elements) != 1:
            raise ctx.bad_request("POST /Payments creates a single payment")  # [U]
        results = [_create(ctx, element) for element in elements]
        return batch_response(ctx, "Payments", results, "HasValidationErrors")
    payment = ctx.books.payments.get(parts[1].lower())
    if payment is None:
        raise ctx.not_found()
    if method == "GET":
        return ctx.ok("Payments", [payment_json(ctx, payment)])
    return _delete(ctx, payment)
