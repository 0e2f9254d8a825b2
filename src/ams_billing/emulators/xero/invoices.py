"""``/Invoices``: read, create, update, delete/void, ``/OnlineInvoice`` and ``/Email``.

Rules (xero-api.md §3-4): per-line tax rounded half-up to 2 dp then summed; ``UnitAmount`` kept
to 2 dp unless ``unitdp=4``; ``LineAmountTypes`` Exclusive (default) / Inclusive / NoTax; ACCREC
invoice numbers auto-generated (``INV-0001``) and unique; status machine DRAFT/SUBMITTED →
DELETED, AUTHORISED → VOIDED only without payments; line items omitted from an update are
deleted; a contact given only by Name is matched or silently created (as Xero does). Messages
marked [U] are plausible wording, not confirmed Xero text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from ams_billing.emulators.common.messages import EmulatorResponse

from . import shapes, wire
from .books import Contact, Invoice, LineItem
from .contacts import contact_summary
from .context import ElementResult, RequestContext, batch_response
from .query import paginate

__all__ = ["compute_line", "handle_invoices", "invoice_json", "line_json", "payment_summary"]

AMOUNT_TYPES = {"exclusive": "Exclusive", "inclusive": "Inclusive", "notax": "NoTax"}
CREATE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
TRANSITIONS = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"SUBMITTED", "AUTHORISED", "DRAFT", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
    "PAID": {"PAID"},
    "VOIDED": {"VOIDED"},
    "DELETED": {"DELETED"},
}
#: Fields that may still change on a partly or fully paid invoice (invoices doc).
PAID_EDITABLE = {
    "Reference",
    "DueDate",
    "InvoiceNumber",
    "BrandingThemeID",
    "Contact",
    "Url",
    "InvoiceID",
    "Status",
    "Type",
    "SentToContact",
    "ExpectedPaymentDate",
    "PlannedPaymentDate",
}
NUMBER_TAKEN = "Invoice # must be unique."
DESCRIPTION_REQUIRED = "The description field is mandatory for each line item."
IDENTIFY_CONTACT = (
    "The Contact must contain at least 1 of the following elements to identify the contact: "
    "Name, ContactID, ContactNumber"
)
HAS_PAYMENTS = "This document cannot be edited as it has a payment or credit note allocated to it."
BAD_STATUS = "Invoice not of valid status for modification"  # [U]
_PASSTHROUGH = ("BrandingThemeID", "ExpectedPaymentDate", "PlannedPaymentDate", "InvoiceAddresses")
_LINE_PASSTHROUGH = ("ItemCode", "Tracking")


def compute_line(
    quantity: Decimal, unit_amount: Decimal, discount_rate: Decimal | None, rate: Decimal, kind: str
) -> tuple[Decimal, Decimal]:
    """Return ``(LineAmount, TaxAmount)`` for a line, each rounded half-up to 2 dp.

    ``rate`` is a percentage; ``kind`` is Exclusive, Inclusive or NoTax. Raise ``ValueError``
    when the line amount is beyond :data:`~.wire.MAX_AMOUNT`.
    """
    gross = quantity * unit_amount
    if discount_rate:
        gross = gross * (Decimal(100) - discount_rate) / Decimal(100)
    if not wire.in_range(gross):
        raise ValueError(f"LineAmount {wire.OUT_OF_RANGE}")
    line = wire.quantize(gross)
    if kind == "NoTax" or not rate:
        return line, Decimal("0.00")
    if kind == "Inclusive":
        return line, wire.quantize(line * rate / (Decimal(100) + rate))
    return line, wire.quantize(line * rate / Decimal(100))


def line_json(line: LineItem, unit_dp: int) -> dict[str, Any]:
    """One line item's JSON."""
    body: dict[str, Any] = {
        "LineItemID": line.line_item_id,
        "Description": line.description or "",
        "Quantity": wire.quantize(line.quantity, 4),
        "UnitAmount": wire.quantize(line.unit_amount, unit_dp),
    }
    body.update(line.extra)
    if line.account_code:
        body["AccountCode"] = line.account_code
    body["TaxType"] = line.tax_type
    body["TaxAmount"] = line.tax_amount
    body["LineAmount"] = line.line_amount
    if line.discount_rate is not None:
        body["DiscountRate"] = line.discount_rate
    body.setdefault("Tracking", [])
    return body


def payment_summary(ctx: RequestContext, invoice: Invoice) -> list[dict[str, Any]]:
    """The invoice's live payments as embedded in the invoice JSON."""
    return [
        {
            "PaymentID": p.payment_id,
            "Date": wire.ms_date(p.date),
            "Amount": p.amount,
            "Reference": p.reference or "",
            "CurrencyRate": Decimal("1.000000"),
            "HasAccount": True,
            "HasValidationErrors": False,
        }
        for p in sorted(ctx.books.payments_of(invoice.invoice_id), key=lambda p: p.updated)
    ]


def invoice_json(
    ctx: RequestContext, invoice: Invoice, *, lines: bool = True, summary: bool = False
) -> dict[str, Any]:
    """One invoice's JSON (``lines`` adds LineItems; ``summary`` drops Payments)."""
    contact = ctx.books.contacts[invoice.contact_id]
    body: dict[str, Any] = {"Type": invoice.type, "InvoiceID": invoice.invoice_id}
    body["InvoiceNumber"] = invoice.invoice_number
    body["Reference"] = invoice.reference or ""
    if not summary:
        body["Payments"] = payment_summary(ctx, invoice)
    body["CreditNotes"] = []
    body["Prepayments"] = []
    body["Overpayments"] = []
    body["AmountDue"] = invoice.amount_due
    body["AmountPaid"] = invoice.amount_paid
    body["AmountCredited"] = Decimal("0.00")
    body["CurrencyRate"] = Decimal("1.000000")
    body["IsDiscounted"] = any(line.discount_rate for line in invoice.line_items)
    body["HasAttachments"] = False
    body["HasErrors"] = False
    body["Contact"] = contact_summary(contact)
    body["DateString"] = wire.date_string(invoice.date)
    body["Date"] = wire.ms_date(invoice.date)
    if invoice.due_date is not None:
        body["DueDateString"] = wire.date_string(invoice.due_date)
        body["DueDate"] = wire.ms_date(invoice.due_date)
    body["Status"] = invoice.status
    body["LineAmountTypes"] = invoice.line_amount_types
    if lines:
        body["LineItems"] = [line_json(line, ctx.unit_dp) for line in invoice.line_items]
    body["SubTotal"] = invoice.sub_total
    body["TotalTax"] = invoice.total_tax
    body["Total"] = invoice.total
    body["UpdatedDateUTC"] = wire.ms_datetime(invoice.updated)
    body["UpdatedDateUTCString"] = invoice.updated.strftime("%Y-%m-%dT%H:%M:%SZ")
    body["CurrencyCode"] = invoice.currency_code
    if invoice.fully_paid_on is not None:
        body["FullyPaidOnDate"] = wire.ms_date(invoice.fully_paid_on)
    body["SentToContact"] = invoice.sent_to_contact
    if invoice.url:
        body["Url"] = invoice.url
    body.update(invoice.extra)
    return body


def _kept(record: shapes.Record, data: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The passthrough fields ``names`` of ``data`` to store (checked; null is "not given")."""
    kept = {name: shapes.conform(record.fields[name], data.get(name)) for name in names}
    return {name: value for name, value in kept.items() if value is not None}


def _existing_data(invoice: Invoice) -> dict[str, Any]:
    data: dict[str, Any] = {
        "Type": invoice.type,
        "Contact": {"ContactID": invoice.contact_id},
        "Status": invoice.status,
        "LineAmountTypes": invoice.line_amount_types,
        "Date": invoice.date.isoformat(),
        "CurrencyCode": invoice.currency_code,
        "InvoiceNumber": invoice.invoice_number,
        "SentToContact": invoice.sent_to_contact,
        "LineItems": [_line_data(line) for line in invoice.line_items],
    }
    if invoice.due_date is not None:
        data["DueDate"] = invoice.due_date.isoformat()
    if invoice.reference is not None:
        data["Reference"] = invoice.reference
    if invoice.url is not None:
        data["Url"] = invoice.url
    data.update(invoice.extra)
    return data


def _line_data(line: LineItem) -> dict[str, Any]:
    data: dict[str, Any] = {
        "LineItemID": line.line_item_id,
        "Description": line.description,
        "Quantity": line.quantity,
        "UnitAmount": line.unit_amount,
        "TaxType": line.tax_type,
    }
    if line.account_code:
        data["AccountCode"] = line.account_code
    if line.discount_rate is not None:
        data["DiscountRate"] = line.discount_rate
    data.update(line.extra)
    return data


def _merge(existing: Invoice, data: Mapping[str, Any]) -> dict[str, Any]:
    merged = _existing_data(existing)
    for key, value in data.items():
        if key in _PASSTHROUGH and value is None:
            continue  # null means "not given": what is stored stays
        if key != "LineItems":
            merged[key] = value
    if "LineItems" in data and isinstance(data["LineItems"], list):
        old = {line["LineItemID"]: line for line in merged["LineItems"]}
        lines = []
        for line in data["LineItems"]:
            if isinstance(line, Mapping) and str(line.get("LineItemID", "")).lower() in old:
                lines.append({**old[str(line["LineItemID"]).lower()], **line})
            else:
                lines.append(line)
        merged["LineItems"] = lines
    return merged


@attrs.define
class _Draft:
    """A validated invoice not yet written to the books."""

    fields: dict[str, Any]
    lines: list[LineItem]
    contact: Contact | None
    new_contact_name: str | None


def _decimal(line: Mapping[str, Any], key: str, errors: list[str]) -> Decimal | None:
    if line.get(key) is None:
        return None
    try:
        value = wire.to_decimal(line[key])
    except ValueError:
        errors.append(f"{key} '{line[key]}' is not a valid number")  # [U]
        return None
    if not wire.in_range(value):
        errors.append(f"{key} {wire.OUT_OF_RANGE}")
        return None
    return value


def _quantity_and_unit(
    ctx: RequestContext, item: Mapping[str, Any], errors: list[str]
) -> tuple[Decimal, Decimal]:
    """``Quantity`` (4 dp) and ``UnitAmount`` (``unitdp``), from ``LineAmount`` if need be."""
    quantity = _decimal(item, "Quantity", errors)
    unit = _decimal(item, "UnitAmount", errors)
    given_line = _decimal(item, "LineAmount", errors)
    if quantity is None and unit is None and given_line is not None:
        quantity, unit = Decimal(1), given_line
    elif quantity is None:
        quantity = Decimal(1) if unit is not None else Decimal(0)
    elif unit is None and given_line is not None and quantity:
        # Both are bounded (magnitude and exponent), so the quotient cannot overflow.
        unit = given_line / quantity
        if not wire.in_range(unit):
            errors.append(f"UnitAmount {wire.OUT_OF_RANGE}")
            unit = None
    unit = wire.quantize(unit if unit is not None else Decimal(0), ctx.unit_dp)
    return wire.quantize(quantity, 4), unit


def _line(
    ctx: RequestContext, item: Mapping[str, Any], kind: str, status: str, errors: list[str]
) -> LineItem:
    description = item.get("Description")
    if not (isinstance(description, str) and description.strip()):
        errors.append(DESCRIPTION_REQUIRED)
    quantity, unit = _quantity_and_unit(ctx, item, errors)
    discount = _decimal(item, "DiscountRate", errors)
    account = None
    code = item.get("AccountCode")
    if item.get("AccountID"):
        account = ctx.books.accounts.get(str(item["AccountID"]).lower())
        if account is None:
            errors.append(f"Account ID '{item['AccountID']}' is not valid")  # [U]
    elif isinstance(code, str) and code.strip():
        account = ctx.books.account_by_code(code)
        if account is None:
            errors.append(f"Account code '{code}' is not a valid code for this document.")
    elif status != "DRAFT" and (quantity * unit) != 0:
        errors.append("Account code must be specified")  # [U]
    if account is not None and account.status != "ACTIVE":
        errors.append(
            f"The account code '{account.code}' has been archived, or deleted. "
            "Each line item must reference a valid account."
        )
    tax_type = item.get("TaxType")
    if kind == "NoTax":
        tax_type = "NONE"
    elif not (isinstance(tax_type, str) and tax_type.strip()):
        tax_type = account.tax_type if account is not None else "NONE"
    rate = ctx.books.tax_rates.get(str(tax_type))
    if rate is None:
        errors.append(f"The TaxType code '{tax_type}' is not valid")
    try:
        amount, tax = compute_line(
            quantity, unit, discount, rate.rate if rate else Decimal(0), kind
        )
    except ValueError as exc:
        errors.append(str(exc))
        amount, tax = Decimal("0.00"), Decimal("0.00")
    override = _decimal(item, "TaxAmount", errors) if "TaxAmount" in item else None
    if override is not None and kind != "NoTax" and item.get("LineItemID") is None:
        tax = wire.quantize(override)
    return LineItem(
        line_item_id=str(item.get("LineItemID") or "").lower() or ctx.ids.uuid(),
        description=description if isinstance(description, str) else None,
        quantity=quantity,
        unit_amount=unit,
        account_code=account.code if account is not None else None,
        tax_type=str(tax_type),
        tax_amount=tax,
        line_amount=amount,
        discount_rate=discount,
        extra=_kept(shapes.LINE_ITEM, item, _LINE_PASSTHROUGH),
    )


def _lines(
    ctx: RequestContext, raw: Any, kind: str, status: str, errors: list[str]
) -> list[LineItem]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        errors.append("LineItems must be an array")  # [U]
        return []
    result = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            errors.append("A line item must be an object")  # [U]
            continue
        kept = shapes.problems_in(shapes.LINE_ITEM, item, ("LineItemID", *_LINE_PASSTHROUGH))
        errors += [f"LineItems[{index}].{problem}" for problem in kept]
        result.append(_line(ctx, item, kind, status, errors))
    if status != "DRAFT" and not result and not errors:
        errors.append("At least one line item must be specified")  # [U]
    return result


def _contact(ctx: RequestContext, raw: Any, errors: list[str]) -> tuple[Contact | None, str | None]:
    if not isinstance(raw, Mapping):
        errors.append("A Contact must be specified for this type of transaction")  # [U]
        return None, None
    if raw.get("ContactID"):
        contact = ctx.books.contacts.get(str(raw["ContactID"]).lower())
        if contact is None:
            errors.append(f"The contact with ContactID '{raw['ContactID']}' could not be found")
            return None, None  # [U] ^
    elif raw.get("ContactNumber"):
        contact = ctx.books.contact_by_number(str(raw["ContactNumber"]))
        if contact is None:
            errors.append(
                f"The contact with ContactNumber '{raw['ContactNumber']}' could not be found"
            )  # [U]
            return None, None
    elif isinstance(raw.get("Name"), str) and raw["Name"].strip():
        name = raw["Name"].strip().casefold()
        for candidate in ctx.books.contacts.values():
            if candidate.status == "ACTIVE" and candidate.name.strip().casefold() == name:
                return candidate, None
        return None, raw["Name"].strip()
    else:
        errors.append(IDENTIFY_CONTACT)
        return None, None
    if contact.status == "ARCHIVED":
        errors.append("The contact has been archived and cannot be used on a transaction")  # [U]
    return contact, None


def _date(value: Any, name: str, errors: list[str]) -> date | None:
    if value is None or value == "":
        return None
    try:
        return wire.parse_xero_date(value)
    except ValueError:
        errors.append(f"{name} '{value}' is not a valid date")  # [U]
        return None


def _number_errors(
    ctx: RequestContext, inv_type: Any, number: Any, existing: Invoice | None
) -> list[str]:
    if number is None:
        return []
    if not isinstance(number, str):
        return ["InvoiceNumber must be a string"]  # [U]
    if len(number) > 255:
        return ["InvoiceNumber must not be more than 255 characters long"]  # [U]
    if inv_type != "ACCREC" or not number.strip():
        return []
    wanted = number.strip().casefold()
    for other in ctx.books.invoices.values():
        if (
            other.type == "ACCREC"
            and other.status != "DELETED"
            and other.invoice_number.casefold() == wanted
            and (existing is None or other.invoice_id != existing.invoice_id)
        ):
            return [NUMBER_TAKEN]
    return []


def _validate(
    ctx: RequestContext, data: Mapping[str, Any], existing: Invoice | None
) -> tuple[_Draft | None, list[str]]:
    errors: list[str] = []
    inv_type = data.get("Type")
    if inv_type not in ("ACCREC", "ACCPAY"):
        errors.append("Invoice Type must be ACCREC or ACCPAY")  # [U]
    status = data.get("Status") or ("DRAFT" if existing is None else existing.status)
    if not isinstance(status, str):
        errors += shapes.problems(shapes.INVOICE.fields["Status"], status, "Status")
        status = "DRAFT" if existing is None else existing.status
    if existing is None:
        if status not in CREATE_STATUSES:
            errors.append("Invoice not of valid status for creation")  # [U]
    elif status not in TRANSITIONS.get(existing.status, set()):
        if status == "VOIDED" and existing.status in ("PAID",):
            errors.append(HAS_PAYMENTS)
        else:
            errors.append(BAD_STATUS)
    elif status == "VOIDED" and existing.amount_paid > 0:
        errors.append(HAS_PAYMENTS)
    raw_kind = data.get("LineAmountTypes") or "Exclusive"
    kind = AMOUNT_TYPES.get(str(raw_kind).casefold(), "")
    if not kind:
        errors.append(f"LineAmountTypes '{raw_kind}' is not valid")  # [U]
        kind = "Exclusive"
    currency = str(data.get("CurrencyCode") or ctx.books.currencies[0]).upper()
    if currency not in ctx.books.currencies:
        errors.append(f"Organisation is not subscribed to currency {currency}")
    contact, new_name = _contact(ctx, data.get("Contact"), errors)
    inv_date = _date(data.get("Date"), "Date", errors) or ctx.today()
    due = _date(data.get("DueDate"), "DueDate", errors)
    lines = _lines(ctx, data.get("LineItems"), kind, str(status), errors)
    number = data.get("InvoiceNumber")
    errors += _number_errors(ctx, inv_type, number, existing)
    errors += shapes.problems_in(shapes.INVOICE, data, _PASSTHROUGH)
    # An emailed invoice keeps SentToContact when it is voided; only setting it early is wrong.
    if data.get("SentToContact") is True and status not in ("AUTHORISED", "PAID", "VOIDED"):
        errors.append("SentToContact can only be set on approved invoices")  # [U]
    if errors:
        return None, list(dict.fromkeys(errors))
    fields = {
        "type": inv_type,
        "status": status,
        "line_amount_types": kind,
        "currency_code": currency,
        "date": inv_date,
        "due_date": due,
        "number": number.strip() if isinstance(number, str) else None,
        "reference": data.get("Reference") if isinstance(data.get("Reference"), str) else None,
        "url": data.get("Url") if isinstance(data.get("Url"), str) else None,
        "sent": bool(data.get("SentToContact", False)),
        "extra": _kept(shapes.INVOICE, data, _PASSTHROUGH),
    }
    return _Draft(fields, lines, contact, new_name), []


def _totals(kind: str, lines: list[LineItem]) -> tuple[Decimal, Decimal, Decimal]:
    lines_sum = sum((line.line_amount for line in lines), Decimal("0.00"))
    tax = sum((line.tax_amount for line in lines), Decimal("0.00"))
    if kind == "Inclusive":
        return lines_sum - tax, tax, lines_sum
    return lines_sum, tax, lines_sum + tax


def _next_number(ctx: RequestContext) -> str:
    taken = {
        inv.invoice_number.casefold() for inv in ctx.books.invoices.values() if inv.type == "ACCREC"
    }
    while True:
        number = f"{ctx.config.invoice_number_prefix}{ctx.books.next_invoice_number:04d}"
        ctx.books.next_invoice_number += 1
        if number.casefold() not in taken:
            return number


def _write(ctx: RequestContext, draft: _Draft, existing: Invoice | None) -> Invoice:
    contact = draft.contact
    if contact is None:
        assert draft.new_contact_name is not None
        contact = Contact(contact_id=ctx.ids.uuid(), name=draft.new_contact_name, updated=ctx.now)
        ctx.books.contacts[contact.contact_id] = contact
        ctx.emit("CONTACT", "CREATE", contact.contact_id)
    f = draft.fields
    sub, tax, total = _totals(f["line_amount_types"], draft.lines)
    if existing is None:
        invoice = Invoice(
            invoice_id=ctx.ids.uuid(),
            type=f["type"],
            contact_id=contact.contact_id,
            status=f["status"],
            line_amount_types=f["line_amount_types"],
            date=f["date"],
            due_date=f["due_date"],
            currency_code=f["currency_code"],
            updated=ctx.now,
        )
        ctx.books.invoices[invoice.invoice_id] = invoice
        ctx.emit("INVOICE", "CREATE", invoice.invoice_id)
    else:
        invoice = existing
        invoice.type = f["type"]
        invoice.contact_id = contact.contact_id
        invoice.status = f["status"]
        invoice.line_amount_types = f["line_amount_types"]
        invoice.date = f["date"]
        invoice.due_date = f["due_date"]
        invoice.currency_code = f["currency_code"]
        invoice.updated = ctx.now
        ctx.emit("INVOICE", "UPDATE", invoice.invoice_id)
    if f["number"]:
        invoice.invoice_number = f["number"]
    elif not invoice.invoice_number and invoice.type == "ACCREC":
        invoice.invoice_number = _next_number(ctx)
    invoice.reference = f["reference"]
    invoice.url = f["url"]
    invoice.sent_to_contact = f["sent"]
    invoice.extra = f["extra"]
    invoice.line_items = draft.lines
    invoice.sub_total, invoice.total_tax, invoice.total = sub, tax, total
    if invoice.type == "ACCREC":
        contact.is_customer = True
    else:
        contact.is_supplier = True
    return invoice


def save_invoice(
    ctx: RequestContext, data: Any, *, existing: Invoice | None, allow_update: bool
) -> ElementResult:
    """Validate and create or update one invoice; used by the batch endpoints."""
    if not isinstance(data, Mapping):
        return ElementResult({}, ("An Invoice must be an object",))  # [U]
    echo = shapes.echo(shapes.INVOICE, data)
    if existing is not None:
        echo.setdefault("InvoiceID", existing.invoice_id)
    if existing is None and data.get("InvoiceID"):
        found = ctx.books.invoices.get(str(data["InvoiceID"]).lower())
        if found is None and allow_update:
            return ElementResult(
                echo, ("The document with the supplied id was not found for this endpoint.",)
            )
        if found is not None and not allow_update:
            return ElementResult(echo, ("This invoice already exists; use POST to update it",))
        existing = found
    if existing is not None:
        if existing.amount_paid > 0 or existing.status in ("PAID", "VOIDED", "DELETED"):
            blocked = [k for k in data if k not in PAID_EDITABLE]
            if blocked and existing.status in ("VOIDED", "DELETED"):
                return ElementResult(echo, (BAD_STATUS,))
            if blocked and not _same_amounts(ctx, existing, data):
                return ElementResult(echo, (HAS_PAYMENTS,))
        merged = _merge(existing, data)
    else:
        merged = dict(data)
    draft, errors = _validate(ctx, merged, existing)
    if draft is None:
        return ElementResult(echo, tuple(errors))
    invoice = _write(ctx, draft, existing)
    return ElementResult(invoice_json(ctx, invoice))


def _same_amounts(ctx: RequestContext, existing: Invoice, data: Mapping[str, Any]) -> bool:
    draft, _errors = _validate(ctx, _merge(existing, data) | {"Status": existing.status}, existing)
    if draft is None:
        return False
    new = [(line.line_amount, line.tax_amount, line.account_code) for line in draft.lines]
    old = [(line.line_amount, line.tax_amount, line.account_code) for line in existing.line_items]
    return bool(
        new == old
        and draft.fields["currency_code"] == existing.currency_code
        and draft.fields["date"] == existing.date
    )


def find_invoice(ctx: RequestContext, key: str) -> Invoice | None:
    """Find an invoice by InvoiceID, or by InvoiceNumber in the same slot."""
    invoice = ctx.books.invoices.get(key.lower())
    return invoice if invoice is not None else ctx.books.invoice_by_number(key)


def _list(ctx: RequestContext) -> EmulatorResponse:
    invoices = list(ctx.books.invoices.values())
    ids = ctx.id_list("IDs")
    if ids is not None:
        wanted = {i.lower() for i in ids}
        invoices = [i for i in invoices if i.invoice_id in wanted]
    numbers = ctx.id_list("InvoiceNumbers")
    if numbers is not None:
        wanted_numbers = {n.casefold() for n in numbers}
        invoices = [i for i in invoices if i.invoice_number.casefold() in wanted_numbers]
    contact_ids = ctx.id_list("ContactIDs")
    if contact_ids is not None:
        wanted_contacts = {c.lower() for c in contact_ids}
        invoices = [i for i in invoices if i.contact_id in wanted_contacts]
    statuses = ctx.id_list("Statuses")
    if statuses is not None:
        wanted_statuses = {s.upper() for s in statuses}
        invoices = [i for i in invoices if i.status in wanted_statuses]
    since = ctx.modified_since()
    if since is not None:
        invoices = [i for i in invoices if i.updated >= since]
    term = ctx.query.get("searchTerm", "").strip().casefold()
    if term:
        invoices = [
            i
            for i in invoices
            if term in i.invoice_number.casefold() or term in (i.reference or "").casefold()
        ]
    invoices.sort(key=lambda i: (i.updated, i.invoice_id))
    summary = ctx.flag("summaryOnly")
    paging = ctx.paging(force=statuses is not None or summary)
    with_lines = paging is not None and not summary
    records = ctx.filtered(
        [invoice_json(ctx, i, lines=with_lines, summary=summary) for i in invoices]
    )
    if paging is None:
        return ctx.ok("Invoices", records)
    page, pagination = paginate(records, *paging)
    return ctx.ok("Invoices", page, pagination)


def _online(ctx: RequestContext, invoice: Invoice) -> EmulatorResponse:
    if invoice.type != "ACCREC" or invoice.status in ("DRAFT", "DELETED"):
        raise ctx.bad_request(
            "An online invoice can only be retrieved for approved sales invoices"  # [U]
        )
    if invoice.online_code is None:
        invoice.online_code = ctx.ids.token(40)
    url = f"{ctx.config.online_invoice_base_url.rstrip('/')}/{invoice.online_code}"
    return ctx.ok("OnlineInvoices", [{"OnlineInvoiceUrl": url}])


def _email(ctx: RequestContext, invoice: Invoice) -> EmulatorResponse:
    if invoice.type != "ACCREC" or invoice.status not in ("SUBMITTED", "AUTHORISED", "PAID"):
        raise ctx.bad_request(
            "Only sales invoices with a status of SUBMITTED, AUTHORISED or PAID can be emailed"
        )  # [U]
    today = ctx.today()
    limit = (
        ctx.config.email_daily_limit_demo if ctx.is_demo_company else ctx.config.email_daily_limit
    )
    sent = ctx.books.emails_sent.get(today, 0)
    if sent >= limit:
        raise ctx.bad_request(
            "The daily email limit for this organisation has been reached"  # [U]
            + (" (a Demo Company cannot send emails)" if ctx.is_demo_company else "")
        )
    ctx.books.emails_sent[today] = sent + 1
    if ctx.config.email_sets_sent_to_contact:
        # Does not bump UpdatedDateUTC (xero-api.md §3.5).
        invoice.sent_to_contact = True
    return EmulatorResponse(
        status=204, headers=(("Xero-Correlation-Id", ctx.correlation_id),), body=b""
    )


def handle_invoices(ctx: RequestContext, method: str, parts: list[str]) -> EmulatorResponse:
    """Dispatch ``/Invoices``, ``/Invoices/{id}``, ``.../OnlineInvoice`` and ``.../Email``."""
    if len(parts) == 1:
        if method == "GET":
            return _list(ctx)
        results = [
            save_invoice(ctx, element, existing=None, allow_update=method == "POST")
            for element in ctx.elements("Invoices")
        ]
        return batch_response(ctx, "Invoices", results, "HasErrors")
    invoice = find_invoice(ctx, parts[1])
    if invoice is None:
        raise ctx.not_found()
    if len(parts) == 3:
        action = parts[2].lower()
        if action == "onlineinvoice":
            return _online(ctx, invoice)
        ctx.json_body()  # the spec requires a (possibly empty) JSON object
        return _email(ctx, invoice)
    if method == "GET":
        return ctx.ok("Invoices", [invoice_json(ctx, invoice)])
    elements = ctx.elements("Invoices")
    if len(elements) != 1:
        raise ctx.bad_request("Only one invoice can be updated at this address")  # [U]
    element = elements[0]
    if isinstance(element, Mapping):
        element = {k: v for k, v in element.items() if k != "InvoiceID"}
    result = save_invoice(ctx, element, existing=invoice, allow_update=True)
    return batch_response(ctx, "Invoices", [result], "HasErrors")
