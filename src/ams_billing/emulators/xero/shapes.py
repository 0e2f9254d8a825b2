"""The shapes of Xero's request objects, as its OpenAPI spec types them, and checks against them.

The emulator keeps some fields it does not interpret (a contact's ``Addresses``, ``Phones``,
``SalesTrackingCategories``...; an invoice's ``InvoiceAddresses``; a line's ``Tracking``) and
answers them back. Each is checked against its shape here before it is stored: a value of the
wrong type, a string longer than the spec's ``maxLength`` or a value outside an ``enum`` is a 400
``ValidationException`` naming the field (the exact Xero wording is [U]). Keys the spec does not
know are dropped, as Xero's deserialiser drops them; ``null`` means "not given".

The same shapes clean what a 400 (or a ``summarizeErrors=false`` element) echoes of the input
(:func:`conform`): only the fields that fit their shape are echoed, so an ``{}`` sent as
``ContactID`` never reaches the ``Element`` of the answer.

The tables follow ``components.schemas`` of Xero's ``xero_accounting.yaml``; a test compares them
with the spec so they cannot drift apart silently.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

import attrs

from . import wire

__all__ = [
    "ACCOUNT",
    "CONTACT",
    "CURRENCY_CODES",
    "INVOICE",
    "LINE_ITEM",
    "PAYMENT",
    "Flag",
    "Integer",
    "Many",
    "Number",
    "Record",
    "Shape",
    "Text",
    "conform",
    "echo",
    "problems",
    "problems_in",
]

_INT32 = 2**31


@attrs.frozen
class Text:
    """A JSON string: at most ``max_length`` characters, one of ``choices`` (any case).

    ``kind`` is ``"uuid"`` for a GUID, ``"date"`` for a date Xero parses, or empty.
    """

    max_length: int | None = None
    choices: tuple[str, ...] = ()
    kind: str = ""


@attrs.frozen
class Flag:
    """A JSON boolean."""


@attrs.frozen
class Integer:
    """A JSON whole number within 32 bits."""


@attrs.frozen
class Number:
    """A JSON number (a numeric string is read as one, as Xero does)."""


@attrs.frozen
class Record:
    """A JSON object with these known fields; others are dropped."""

    fields: Mapping[str, Shape]


@attrs.frozen
class Many:
    """A JSON array of ``item``."""

    item: Shape


Shape = Text | Flag | Integer | Number | Record | Many

_DROP: Final = object()

_CURRENCIES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
BYN BYR BZD CAD CDF CHF CLF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EEK EGP ERN ETB
EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD
JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LTL LVL LYD MAD MDL MGA MKD
MMK MNT MOP MRO MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP
PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SKK SLE SLL SOS SRD STD STN SVC
SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VEF VES VND VUV WST XAF XCD
XOF XPF YER ZAR ZMW ZMK ZWD
"""
CURRENCY_CODES: Final = tuple(_CURRENCIES.split())
"""``components.schemas.CurrencyCode`` of the spec."""

_GUID = Text(kind="uuid")
_CURRENCY = Text(choices=CURRENCY_CODES)
_LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
_DEFAULT_AMOUNT_TYPES = ("INCLUSIVE", "EXCLUSIVE", "NONE")

ADDRESS = Record(
    {
        "AddressType": Text(choices=("POBOX", "STREET")),
        "AddressLine1": Text(500),
        "AddressLine2": Text(500),
        "AddressLine3": Text(500),
        "AddressLine4": Text(500),
        "City": Text(255),
        "Region": Text(255),
        "PostalCode": Text(50),
        "Country": Text(50),
        "AttentionTo": Text(255),
    }
)
PHONE = Record(
    {
        "PhoneType": Text(choices=("DEFAULT", "DDI", "MOBILE", "FAX", "OFFICE")),
        "PhoneNumber": Text(50),
        "PhoneAreaCode": Text(10),
        "PhoneCountryCode": Text(20),
    }
)
CONTACT_PERSON = Record(
    {"FirstName": Text(), "LastName": Text(), "EmailAddress": Text(), "IncludeInEmails": Flag()}
)
TRACKING_CATEGORY = Record({"TrackingCategoryName": Text(), "TrackingOptionName": Text()})
_BILL = Record(
    {
        "Day": Integer(),
        "Type": Text(
            choices=(
                "DAYSAFTERBILLDATE",
                "DAYSAFTERBILLMONTH",
                "OFCURRENTMONTH",
                "OFFOLLOWINGMONTH",
            )
        ),
    }
)
PAYMENT_TERM = Record({"Bills": _BILL, "Sales": _BILL})
BRANDING_THEME = Record(
    {
        "BrandingThemeID": _GUID,
        "Name": Text(),
        "LogoUrl": Text(),
        "Type": Text(choices=("INVOICE",)),
        "SortOrder": Integer(),
    }
)
BATCH_PAYMENT_DETAILS = Record(
    {
        "BankAccountNumber": Text(),
        "BankAccountName": Text(),
        "Details": Text(),
        "Code": Text(12),
        "Reference": Text(12),
    }
)

CONTACT = Record(
    {
        "ContactID": _GUID,
        "ContactNumber": Text(50),
        "AccountNumber": Text(50),
        "ContactStatus": Text(choices=("ACTIVE", "ARCHIVED", "GDPRREQUEST")),
        "Name": Text(255),
        "FirstName": Text(255),
        "LastName": Text(255),
        "CompanyNumber": Text(50),
        "EmailAddress": Text(255),
        "ContactPersons": Many(CONTACT_PERSON),
        "BankAccountDetails": Text(),
        "TaxNumber": Text(50),
        "TaxNumberType": Text(choices=("SSN", "EIN", "ITIN", "ATIN")),
        "AccountsReceivableTaxType": Text(),
        "AccountsPayableTaxType": Text(),
        "Addresses": Many(ADDRESS),
        "Phones": Many(PHONE),
        "IsSupplier": Flag(),
        "IsCustomer": Flag(),
        "SalesDefaultLineAmountType": Text(choices=_DEFAULT_AMOUNT_TYPES),
        "PurchasesDefaultLineAmountType": Text(choices=_DEFAULT_AMOUNT_TYPES),
        "DefaultCurrency": _CURRENCY,
        "XeroNetworkKey": Text(),
        "SalesDefaultAccountCode": Text(),
        "PurchasesDefaultAccountCode": Text(),
        "SalesTrackingCategories": Many(TRACKING_CATEGORY),
        "PurchasesTrackingCategories": Many(TRACKING_CATEGORY),
        "TrackingCategoryName": Text(),
        "TrackingCategoryOption": Text(),
        "PaymentTerms": PAYMENT_TERM,
        "BrandingTheme": BRANDING_THEME,
        "BatchPayments": BATCH_PAYMENT_DETAILS,
    }
)
"""The writable fields of ``components.schemas.Contact``."""

LINE_ITEM_TRACKING = Record(
    {
        "TrackingCategoryID": _GUID,
        "TrackingOptionID": _GUID,
        "Name": Text(100),
        "Option": Text(),
    }
)
LINE_ITEM = Record(
    {
        "LineItemID": _GUID,
        "Description": Text(),
        "Quantity": Number(),
        "UnitAmount": Number(),
        "ItemCode": Text(),
        "AccountCode": Text(),
        "AccountID": _GUID,
        "TaxType": Text(),
        "TaxAmount": Number(),
        "LineAmount": Number(),
        "Tracking": Many(LINE_ITEM_TRACKING),
        "DiscountRate": Number(),
    }
)
"""The fields of ``components.schemas.LineItem`` the emulator reads or keeps."""

INVOICE_ADDRESS = Record(
    {
        "InvoiceAddressType": Text(choices=("FROM", "TO")),
        "AddressLine1": Text(),
        "AddressLine2": Text(),
        "AddressLine3": Text(),
        "AddressLine4": Text(),
        "City": Text(),
        "Region": Text(),
        "PostalCode": Text(),
        "Country": Text(),
    }
)
INVOICE = Record(
    {
        "Type": Text(
            choices=(
                "ACCPAY",
                "ACCPAYCREDIT",
                "APOVERPAYMENT",
                "APPREPAYMENT",
                "ACCREC",
                "ACCRECCREDIT",
                "AROVERPAYMENT",
                "ARPREPAYMENT",
            )
        ),
        "Contact": CONTACT,
        "LineItems": Many(LINE_ITEM),
        "Date": Text(),
        "DueDate": Text(),
        "LineAmountTypes": Text(choices=_LINE_AMOUNT_TYPES),
        "InvoiceNumber": Text(255),
        "Reference": Text(),
        "BrandingThemeID": _GUID,
        "Url": Text(),
        "CurrencyCode": _CURRENCY,
        "CurrencyRate": Number(),
        "Status": Text(choices=("DRAFT", "SUBMITTED", "DELETED", "AUTHORISED", "PAID", "VOIDED")),
        "SentToContact": Flag(),
        "ExpectedPaymentDate": Text(kind="date"),
        "PlannedPaymentDate": Text(kind="date"),
        "InvoiceID": _GUID,
        "InvoiceAddresses": Many(INVOICE_ADDRESS),
    }
)
"""The writable fields of ``components.schemas.Invoice``."""

ACCOUNT = Record({"Code": Text(), "AccountID": _GUID})
PAYMENT = Record(
    {
        "Invoice": INVOICE,
        "Account": ACCOUNT,
        "InvoiceNumber": Text(),
        "Code": Text(),
        "Date": Text(),
        "CurrencyRate": Number(),
        "Amount": Number(),
        "BankAmount": Number(),
        "Reference": Text(),
        "IsReconciled": Flag(),
        "Status": Text(choices=("AUTHORISED", "DELETED")),
        "PaymentID": _GUID,
    }
)
"""The writable fields of ``components.schemas.Payment`` the emulator reads."""


def _choice(shape: Text, value: str) -> str | None:
    folded = value.casefold()
    return next((c for c in shape.choices if c.casefold() == folded), None)


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_date(value: str) -> bool:
    try:
        wire.parse_xero_date(value)
    except ValueError:
        return False
    return True


def _text_problem(shape: Text, value: Any, where: str) -> str | None:
    if not isinstance(value, str):
        return f"{where} must be a string"
    if shape.max_length is not None and len(value) > shape.max_length:
        return f"{where} must not be more than {shape.max_length} characters long"
    if shape.choices and _choice(shape, value) is None:
        if len(shape.choices) > 10:
            return f"{where} '{_short(value)}' is not a valid value"
        return f"{where} must be one of {', '.join(shape.choices)}"
    if shape.kind == "uuid" and not _is_guid(value):
        return f"{where} '{_short(value)}' is not a valid GUID"
    if shape.kind == "date" and not _is_date(value):
        return f"{where} '{_short(value)}' is not a valid date"
    return None


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        number = int(value)
    else:
        return None
    return number if -_INT32 <= number < _INT32 else None


def _number(value: Any) -> Decimal | None:
    try:
        number = wire.to_decimal(value)
    except ValueError:
        return None
    return number if wire.in_range(number) else None


def problems(shape: Shape, value: Any, where: str) -> list[str]:
    """What is wrong with ``value`` as ``shape``; each message names the field (``where``)."""
    if value is None:
        return []
    if isinstance(shape, Text):
        problem = _text_problem(shape, value, where)
        return [problem] if problem else []
    if isinstance(shape, Flag):
        return [] if isinstance(value, bool) else [f"{where} must be true or false"]
    if isinstance(shape, Integer):
        return [] if _whole(value) is not None else [f"{where} must be a whole number"]
    if isinstance(shape, Number):
        return [] if _number(value) is not None else [f"{where} must be a number"]
    if isinstance(shape, Record):
        if not isinstance(value, Mapping):
            return [f"{where} must be an object"]
        found: list[str] = []
        for name, field in shape.fields.items():
            if name in value:
                found += problems(field, value[name], f"{where}.{name}")
        return found
    if not isinstance(value, list):
        return [f"{where} must be an array"]
    found = []
    for index, item in enumerate(value):
        found += problems(shape.item, item, f"{where}[{index}]")
    return found


def problems_in(record: Record, data: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    """:func:`problems` of the fields ``names`` of ``data`` (those present)."""
    found: list[str] = []
    for name in names:
        if name in data:
            found += problems(record.fields[name], data[name], name)
    return found


def conform(shape: Shape, value: Any) -> Any:
    """``value`` reduced to what fits ``shape`` (a :class:`Record` keeps its fitting fields).

    Return the shape's canonical form (an ``enum`` value in the spec's case, numbers as
    ``Decimal``); for a value that does not fit at all, return ``None``.
    """
    result = _conform(shape, value)
    return None if result is _DROP else result


def _conform(shape: Shape, value: Any) -> Any:
    if value is None:
        return _DROP
    if isinstance(shape, Text):
        if _text_problem(shape, value, "") is not None:
            return _DROP
        return _choice(shape, value) if shape.choices else value
    if isinstance(shape, Flag):
        return value if isinstance(value, bool) else _DROP
    if isinstance(shape, Integer):
        whole = _whole(value)
        return _DROP if whole is None else whole
    if isinstance(shape, Number):
        number = _number(value)
        return _DROP if number is None else number
    if isinstance(shape, Record):
        if not isinstance(value, Mapping):
            return _DROP
        kept = {}
        for name, field in shape.fields.items():
            if name in value:
                item = _conform(field, value[name])
                if item is not _DROP:
                    kept[name] = item
        return kept
    if not isinstance(value, list):
        return _DROP
    items = (_conform(shape.item, item) for item in value)
    return [item for item in items if item is not _DROP]


def echo(record: Record, data: Any) -> dict[str, Any]:
    """What an error answer echoes of a submitted element: its fields that fit ``record``."""
    kept = conform(record, data)
    return kept if isinstance(kept, dict) else {}
