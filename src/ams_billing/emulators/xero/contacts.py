"""``/Contacts``: read, create (PUT), create-or-update (POST), archive.

Rules (xero-api.md §2): Name is required on create and unique among ACTIVE contacts;
ContactNumber is unique across all contacts; EmailAddress must be a valid address (ASCII only).
``POST`` without ``ContactID`` creates (it does not upsert by name: [U], the spec's 400 example
shows the duplicate-name error). AccountNumber is also kept unique, with the message reported by
integrators ([U]). Unconfirmed messages are marked [U] below.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ams_billing.emulators.common.messages import EmulatorResponse

from . import shapes, wire
from .books import Contact
from .context import ElementResult, RequestContext, batch_response
from .query import paginate

__all__ = ["contact_json", "contact_summary", "find_contact", "handle_contacts"]

EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
NAME_TAKEN = (
    "The contact name {name} is already assigned to another contact. "
    "The contact name must be unique across all active contacts."
)
NUMBER_TAKEN = (
    "The contact number {number} is already assigned to another contact. "
    "The contact number must be unique across all contacts."
)
ACCOUNT_NUMBER_TAKEN = "The Account Number already exists. Please enter a different Account Number."
EMAIL_INVALID = "Email address must be valid."

_PASSTHROUGH = (
    "CompanyNumber",
    "ContactPersons",
    "BankAccountDetails",
    "TaxNumber",
    "AccountsReceivableTaxType",
    "AccountsPayableTaxType",
    "Addresses",
    "Phones",
    "SalesDefaultLineAmountType",
    "PurchasesDefaultLineAmountType",
    "DefaultCurrency",
    "SalesDefaultAccountCode",
    "PurchasesDefaultAccountCode",
    "SalesTrackingCategories",
    "PurchasesTrackingCategories",
    "TrackingCategoryName",
    "TrackingCategoryOption",
    "PaymentTerms",
    "BrandingTheme",
    "BatchPayments",
    "XeroNetworkKey",
)
_SIMPLE = {
    "Name": "name",
    "FirstName": "first_name",
    "LastName": "last_name",
    "EmailAddress": "email",
    "ContactNumber": "contact_number",
    "AccountNumber": "account_number",
}
_MAX_LEN = {"Name": 255, "FirstName": 255, "LastName": 255, "EmailAddress": 255}
_MAX_LEN_50 = ("ContactNumber", "AccountNumber")


def contact_summary(contact: Contact) -> dict[str, Any]:
    """The contact as embedded in invoices and payments."""
    body: dict[str, Any] = {
        "ContactID": contact.contact_id,
        "ContactStatus": contact.status,
        "Name": contact.name,
    }
    if contact.contact_number:
        body["ContactNumber"] = contact.contact_number
    if contact.account_number:
        body["AccountNumber"] = contact.account_number
    if contact.email:
        body["EmailAddress"] = contact.email
    body["HasValidationErrors"] = False
    return body


def contact_json(contact: Contact) -> dict[str, Any]:
    """The full contact JSON."""
    body: dict[str, Any] = {"ContactID": contact.contact_id}
    if contact.contact_number:
        body["ContactNumber"] = contact.contact_number
    if contact.account_number:
        body["AccountNumber"] = contact.account_number
    body["ContactStatus"] = contact.status
    body["Name"] = contact.name
    if contact.first_name:
        body["FirstName"] = contact.first_name
    if contact.last_name:
        body["LastName"] = contact.last_name
    body["EmailAddress"] = contact.email or ""
    body["BankAccountDetails"] = ""
    body["Addresses"] = []
    body["Phones"] = []
    body["ContactPersons"] = []
    body.update(contact.extra)
    body["UpdatedDateUTC"] = wire.ms_datetime(contact.updated)
    body["ContactGroups"] = []
    body["IsSupplier"] = contact.is_supplier
    body["IsCustomer"] = contact.is_customer
    body["HasAttachments"] = False
    body["HasValidationErrors"] = False
    return body


def find_contact(ctx: RequestContext, key: str) -> Contact | None:
    """Find a contact by ContactID, or by ContactNumber in the same slot."""
    contact = ctx.books.contacts.get(key.lower())
    return contact if contact is not None else ctx.books.contact_by_number(key)


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


def _validate(ctx: RequestContext, data: Mapping[str, Any], existing: Contact | None) -> list[str]:
    errors: list[str] = []
    for field, value in data.items():
        if field in _SIMPLE and value is not None and not isinstance(value, str):
            errors.append(f"{field} must be a string")  # [U]
    if errors:
        return errors
    name = data.get("Name")
    if name is None and existing is not None:
        name = existing.name
    if existing is None and not (isinstance(name, str) and name.strip()):
        errors.append("A Contact Name must be specified")  # [U]
    for field, limit in _MAX_LEN.items():
        value = data.get(field)
        if isinstance(value, str) and len(value) > limit:
            errors.append(f"{field} must not be more than {limit} characters long")  # [U]
    for field in _MAX_LEN_50:
        value = data.get(field)
        if isinstance(value, str) and len(value) > 50:
            errors.append(f"{field} must not be more than 50 characters long")  # [U]
    errors += shapes.problems_in(shapes.CONTACT, data, _PASSTHROUGH)
    email = data.get("EmailAddress")
    if isinstance(email, str) and email.strip() and not EMAIL_RE.match(email.strip()):
        errors.append(EMAIL_INVALID)
    status = data.get("ContactStatus", existing.status if existing else "ACTIVE")
    if status not in ("ACTIVE", "ARCHIVED", "GDPRREQUEST"):
        errors.append(f"ContactStatus '{status}' is not valid")  # [U]
    number = data.get("ContactNumber", existing.contact_number if existing else None)
    account_number = data.get("AccountNumber", existing.account_number if existing else None)
    for other in ctx.books.contacts.values():
        if existing is not None and other.contact_id == existing.contact_id:
            continue
        if status == "ACTIVE" and other.status == "ACTIVE" and _same(other.name, name):
            errors.append(NAME_TAKEN.format(name=name))
        if number and _same(other.contact_number, number):
            errors.append(NUMBER_TAKEN.format(number=number))
        if account_number and _same(other.account_number, account_number):
            errors.append(ACCOUNT_NUMBER_TAKEN)
    return list(dict.fromkeys(errors))


def _apply(contact: Contact, data: Mapping[str, Any]) -> None:
    for field, attr in _SIMPLE.items():
        value = data.get(field)
        if isinstance(value, str):  # null means "not given", as in Xero
            setattr(contact, attr, value.strip())
    if "ContactStatus" in data:
        contact.status = data["ContactStatus"]
    for field in _PASSTHROUGH:
        if field in data:
            value = shapes.conform(shapes.CONTACT.fields[field], data[field])
            if value is not None:  # null means "not given", as in Xero
                contact.extra[field] = value


def save_contact(
    ctx: RequestContext, data: Any, *, existing: Contact | None, allow_update: bool
) -> ElementResult:
    """Validate and create (or update) one contact; used by the batch endpoints."""
    if not isinstance(data, Mapping):
        return ElementResult({}, ("A Contact must be an object",))  # [U]
    echo = shapes.echo(shapes.CONTACT, data)
    if existing is not None:
        echo.setdefault("ContactID", existing.contact_id)
    bad_id = shapes.problems_in(shapes.CONTACT, data, ("ContactID",))
    if bad_id:
        return ElementResult(echo, tuple(bad_id))
    if existing is None and data.get("ContactID"):
        found = ctx.books.contacts.get(str(data["ContactID"]).lower())
        if found is not None and not allow_update:
            return ElementResult(echo, ("A contact with this ContactID already exists",))  # [U]
        if found is None and allow_update:
            return ElementResult(
                echo, ("The document with the supplied id was not found for this endpoint.",)
            )
        existing = found
    errors = _validate(ctx, data, existing)
    if errors:
        return ElementResult(echo, tuple(errors))
    if existing is None:
        contact = Contact(contact_id=ctx.ids.uuid(), name="", updated=ctx.now)
        _apply(contact, data)
        ctx.books.contacts[contact.contact_id] = contact
        ctx.emit("CONTACT", "CREATE", contact.contact_id)
    else:
        contact = existing
        _apply(contact, data)
        contact.updated = ctx.now
        ctx.emit("CONTACT", "UPDATE", contact.contact_id)
    return ElementResult(contact_json(contact))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(ctx: RequestContext) -> EmulatorResponse:
    contacts = list(ctx.books.contacts.values())
    ids = ctx.id_list("IDs")
    if ids is not None:
        wanted = {i.lower() for i in ids}
        contacts = [c for c in contacts if c.contact_id in wanted]
    elif not ctx.flag("includeArchived"):
        contacts = [c for c in contacts if c.status != "ARCHIVED"]
    since = ctx.modified_since()
    if since is not None:
        contacts = [c for c in contacts if c.updated >= since]
    term = ctx.query.get("searchTerm", "").strip().casefold()
    if term:
        contacts = [
            c
            for c in contacts
            if any(
                term in (v or "").casefold()
                for v in (
                    c.name,
                    c.first_name,
                    c.last_name,
                    c.contact_number,
                    c.email,
                    _text(c.extra.get("CompanyNumber")),
                )
            )
        ]
    contacts.sort(key=lambda c: (c.updated, c.contact_id))
    records = ctx.filtered([contact_json(c) for c in contacts])
    paging = ctx.paging()
    if paging is None:
        return ctx.ok("Contacts", records)
    page, pagination = paginate(records, *paging)
    return ctx.ok("Contacts", page, pagination)


def handle_contacts(ctx: RequestContext, method: str, parts: list[str]) -> EmulatorResponse:
    """Dispatch ``/Contacts`` and ``/Contacts/{ContactID|ContactNumber}``."""
    if len(parts) == 1:
        if method == "GET":
            return _list(ctx)
        allow_update = method == "POST"
        results = [
            save_contact(ctx, element, existing=None, allow_update=allow_update)
            for element in ctx.elements("Contacts")
        ]
        return batch_response(ctx, "Contacts", results, "HasValidationErrors")
    contact = find_contact(ctx, parts[1])
    if contact is None:
        raise ctx.not_found()
    if method == "GET":
        return ctx.ok("Contacts", [contact_json(contact)])
    elements = ctx.elements("Contacts")
    if len(elements) != 1:
        raise ctx.bad_request("Only one contact can be updated at this address")  # [U]
    element = elements[0]
    if isinstance(element, Mapping):
        element = {k: v for k, v in element.items() if k != "ContactID"}
    result = save_contact(ctx, element, existing=contact, allow_update=True)
    return batch_response(ctx, "Contacts", [result], "HasValidationErrors")
