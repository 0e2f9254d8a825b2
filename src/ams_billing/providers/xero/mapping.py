"""Between the core's models and Xero's wire objects, field by field.

=============================== =============================================================
core                            Xero
=============================== =============================================================
Contact.account_reference       ContactNumber (API-only, unique) and AccountNumber (what the
                                old AMS looked contacts up by)
Contact.name / email            Name / EmailAddress
Contact.first_name / last_name  FirstName / LastName
InvoiceRequest.amount_type      LineAmountTypes Inclusive / Exclusive / NoTax (else
                                ``XERO_AMOUNT_TYPE``)
InvoiceRequest.issue_date       Date (``YYYY-MM-DD``)
LineItem.account_code           AccountCode (else the request's, else ``XERO_ACCOUNT_CODE``)
LineItem.tax_rate               (refused: Xero taxes a line by its account's TaxType, a code,
                                not a percentage; see :func:`refuse_line_tax_rates`)
Invoice.status                  Status: DRAFT, SUBMITTED → AWAITING_APPROVAL, AUTHORISED →
                                OPEN, PAID, VOIDED → VOID, DELETED (:data:`STATUSES`)
Invoice.provider_status         Status, as Xero sent it
=============================== =============================================================
"""

from __future__ import annotations

from decimal import Decimal

from ams_billing.core.errors import FieldError, ProviderUnavailableError, ValidationError
from ams_billing.core.models import (
    MAX_NAME_LENGTH,
    AmountType,
    Contact,
    ContactRecord,
    Invoice,
    InvoiceDefaults,
    InvoiceLine,
    InvoiceRequest,
    InvoiceStatus,
)
from ams_billing.core.money import decimal_places
from ams_billing.providers.xero import wire

__all__ = [
    "LINE_AMOUNT_TYPES",
    "STATUSES",
    "XERO_STATUSES",
    "contact_payload",
    "invoice_payload",
    "needs_unitdp4",
    "refuse_line_tax_rates",
    "to_contact_record",
    "to_invoice",
    "unique_name",
]

LINE_AMOUNT_TYPES: dict[AmountType, str] = {
    AmountType.INCLUSIVE: "Inclusive",
    AmountType.EXCLUSIVE: "Exclusive",
    AmountType.NO_TAX: "NoTax",
}
_AMOUNT_TYPES = {value.lower(): key for key, value in LINE_AMOUNT_TYPES.items()}
_ZERO = Decimal(0)
_CANCELLED = frozenset({InvoiceStatus.VOID, InvoiceStatus.DELETED})
STATUSES: dict[str, InvoiceStatus] = {
    "DRAFT": InvoiceStatus.DRAFT,
    "SUBMITTED": InvoiceStatus.AWAITING_APPROVAL,
    "AUTHORISED": InvoiceStatus.OPEN,
    "PAID": InvoiceStatus.PAID,
    "VOIDED": InvoiceStatus.VOID,
    "DELETED": InvoiceStatus.DELETED,
}
"""Xero's invoice statuses, by the core status each one is (Xero has none for UNCOLLECTIBLE)."""
XERO_STATUSES: dict[InvoiceStatus, str] = {core: xero for xero, core in STATUSES.items()}
"""The Xero status of each core status Xero has."""


def unique_name(name: str, account_reference: str) -> str:
    """``"<name> (<account reference>)"`` within Xero's 255 characters (the old AMS's names)."""
    suffix = f" ({account_reference})"
    if name.endswith(suffix):
        return name
    return name[: MAX_NAME_LENGTH - len(suffix)].rstrip() + suffix


def contact_payload(
    contact: Contact,
    *,
    contact_id: str | None = None,
    name: str | None = None,
    reactivate: bool = False,
) -> wire.WireContact:
    """The contact to POST: keyed on ``contact_id`` when updating, named ``name`` if given."""
    return wire.WireContact(
        contact_id=contact_id,
        contact_number=contact.account_reference,
        account_number=contact.account_reference,
        contact_status="ACTIVE" if reactivate else None,
        name=name or contact.name,
        first_name=contact.first_name,
        last_name=contact.last_name,
        # On an update, no email means none: an empty value clears the one Xero holds.
        email_address=contact.email if contact.email or contact_id is None else "",
    )


def to_contact_record(
    contact: wire.WireContact, fallback: ContactRecord | None = None
) -> ContactRecord:
    """The core's view of a Xero contact; ``fallback`` fills what Xero's summary leaves out."""
    if not contact.contact_id:
        raise ProviderUnavailableError("Xero sent a contact without a ContactID", retryable=False)
    reference = contact.contact_number or contact.account_number
    name = contact.name
    email = contact.email_address or None
    if fallback is not None and fallback.provider_id == contact.contact_id:
        reference = reference or fallback.account_reference
        if not name or (reference and name == unique_name(fallback.name, reference)):
            # Xero holds the name made unique for it; the caller knows the contact by its own.
            name = fallback.name
        email = email or fallback.email
    return ContactRecord(
        provider_id=contact.contact_id, account_reference=reference, name=name or "", email=email
    )


def refuse_line_tax_rates(request: InvoiceRequest) -> None:
    """Raise ``ValidationError`` naming ``line_items[i].tax_rate`` for each line naming a rate.

    A Xero line is taxed by a TaxType, a code of the organisation's tax rates (usually its
    account's), not by a percentage. Choosing a TaxType for a bare percentage would be a guess
    (several can share a rate and mean different things on the tax return), and billing the
    account's rate instead would bill another tax than asked, so the line is refused.
    """
    errors = [
        FieldError(
            f"line_items[{index}].tax_rate",
            f"Xero taxes a line by its account's tax type, not by a percentage ({item.tax_rate})",
            "leave tax_rate unset and bill the line to an account (account_code) whose tax "
            "type has the rate you want",
        )
        for index, item in enumerate(request.line_items)
        if item.tax_rate is not None
    ]
    if errors:
        raise ValidationError(errors)


def needs_unitdp4(request: InvoiceRequest) -> bool:
    """Whether a unit amount has more than 2 decimal places (Xero's default precision)."""
    return any(decimal_places(item.unit_amount.normalize()) > 2 for item in request.line_items)


def invoice_payload(
    request: InvoiceRequest, contact_id: str, defaults: InvoiceDefaults
) -> wire.WireInvoice:
    """The AUTHORISED sales invoice to PUT for ``request``, billed to ``contact_id``.

    What the request leaves unset (its amount type, a line's account code) comes from
    ``defaults``: the operator's ``XERO_AMOUNT_TYPE`` and ``XERO_ACCOUNT_CODE``.
    """
    code = request.account_code or defaults.account_code
    lines = tuple(
        wire.WireLineItem(
            description=item.description,
            quantity=item.quantity,
            unit_amount=item.unit_amount,
            account_code=item.account_code or code,
        )
        for item in request.line_items
    )
    return wire.WireInvoice(
        invoice_type="ACCREC",
        status="AUTHORISED",
        contact=wire.WireContact(contact_id=contact_id),
        invoice_date=request.issue_date,
        due_date=request.due_date,
        reference=request.reference,
        line_amount_types=LINE_AMOUNT_TYPES[defaults.amount_type_for(request)],
        currency_code=request.currency,
        line_items=lines,
    )


def to_invoice(invoice: wire.WireInvoice, contact: ContactRecord | None = None) -> Invoice:
    """The core's view of a Xero invoice; ``contact`` fills what the embedded summary lacks."""
    if (
        not invoice.invoice_id
        or invoice.contact is None
        or invoice.status is None
        or invoice.invoice_date is None
        or invoice.updated_date_utc is None
    ):
        raise ProviderUnavailableError(
            "Xero sent an invoice without its id, contact, status, date or UpdatedDateUTC",
            retryable=False,
        )
    status = STATUSES.get(invoice.status) or STATUSES.get(invoice.status.upper())
    if status is None:
        raise ProviderUnavailableError(
            f"Xero sent an unknown invoice status {invoice.status!r}", retryable=False
        )
    # The amounts are written out (``x if x is not None else 0``) rather than through a helper:
    # this runs for every invoice of every page read.
    lines = invoice.line_items
    return Invoice(
        provider_id=invoice.invoice_id,
        number=invoice.invoice_number or None,
        status=status,
        contact=to_contact_record(invoice.contact, contact),
        currency=invoice.currency_code or "",
        issue_date=invoice.invoice_date,
        due_date=invoice.due_date,
        reference=invoice.reference or None,
        amount_type=_AMOUNT_TYPES.get(
            (invoice.line_amount_types or "").lower(), AmountType.EXCLUSIVE
        ),
        subtotal=_ZERO if invoice.sub_total is None else invoice.sub_total,
        total_tax=_ZERO if invoice.total_tax is None else invoice.total_tax,
        total=_ZERO if invoice.total is None else invoice.total,
        amount_paid=_ZERO if invoice.amount_paid is None else invoice.amount_paid,
        # Nothing is owed on a voided or deleted invoice, whatever AmountDue still says.
        amount_due=_ZERO
        if status in _CANCELLED or invoice.amount_due is None
        else invoice.amount_due,
        updated_at=invoice.updated_date_utc,
        fully_paid_on=invoice.fully_paid_on_date if status is InvoiceStatus.PAID else None,
        line_items=tuple([_line(line) for line in lines]) if lines else (),
        provider_status=invoice.status,
    )


def _line(line: wire.WireLineItem) -> InvoiceLine:
    return InvoiceLine(
        description=line.description or "",
        quantity=_ZERO if line.quantity is None else line.quantity,
        unit_amount=_ZERO if line.unit_amount is None else line.unit_amount,
        line_amount=_ZERO if line.line_amount is None else line.line_amount,
        tax_amount=_ZERO if line.tax_amount is None else line.tax_amount,
        account_code=line.account_code,
    )
