"""Xero's JSON wire format as attrs classes, converted by one cattrs converter.

- Field names are snake_case here and PascalCase on the wire (``invoice_id`` ↔ ``InvoiceID``,
  ``updated_date_utc`` ↔ ``UpdatedDateUTC``); a class may declare camelCase
  (webhooks) or snake_case (the token endpoint) instead, and one field may name itself with
  ``metadata={WIRE_NAME: ...}``.
- Money is :class:`~decimal.Decimal` both ways: responses are parsed with every JSON number as
  a ``Decimal`` (never a float), and :func:`dumps` writes a ``Decimal`` as the exact JSON number
  it is (``10.10`` stays ``10.10``).
- Dates arrive as ``/Date(1518685950940+0000)/`` (milliseconds since the epoch, optional
  offset, negative for year-1 sentinels) or ISO 8601, and leave as ``YYYY-MM-DD``.
- Unset fields are left out of request bodies, so a POST never blanks what it did not mention.
"""

from __future__ import annotations

import functools
import json
import linecache
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import UnionType
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override
from cattrs.preconf.json import make_converter as make_json_converter

from ams_billing.core import exactjson
from ams_billing.core.errors import ProviderUnavailableError

__all__ = [
    "WIRE_NAME",
    "Connection",
    "ContactsEnvelope",
    "InvoicesEnvelope",
    "OnlineInvoice",
    "OnlineInvoicesEnvelope",
    "Organisation",
    "OrganisationsEnvelope",
    "Pagination",
    "PaymentsEnvelope",
    "Problem",
    "TokenError",
    "TokenResponse",
    "ValidationException",
    "WebhookEventBody",
    "WebhookPayload",
    "WireAccount",
    "WireContact",
    "WireElement",
    "WireInvoice",
    "WireLineItem",
    "WireMessage",
    "WirePayment",
    "converter",
    "dumps",
    "loads",
    "parse_ms_date",
    "parse_ms_datetime",
    "read",
    "structure",
    "unstructure",
]

T = TypeVar("T")

WIRE_NAME = "ams_billing.xero.wire_name"
"""Field metadata key naming a field on the wire when the class's case rule does not fit."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_ACRONYMS = {"id": "ID", "utc": "UTC"}


def _pascal(name: str) -> str:
    return "".join(_ACRONYMS.get(part, part.capitalize()) for part in name.split("_"))


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


_CASES: Mapping[str, Callable[[str], str]] = {
    "pascal": _pascal,
    "camel": _camel,
    "snake": lambda name: name,
}


def _wire_name(cls: type[Any], attribute: attrs.Attribute[Any]) -> str:
    named = attribute.metadata.get(WIRE_NAME)
    if named:
        return str(named)
    return _CASES[getattr(cls, "WIRE_CASE", "pascal")](attribute.name)


# -- scalar conversions ------------------------------------------------------------------


def parse_ms_datetime(value: str) -> datetime:
    """Parse ``/Date(ms±hhmm)/`` or ISO 8601 into an aware UTC datetime.

    The milliseconds are UTC whatever the offset says (the offset is only for display); an
    ISO value without a zone is UTC, and seven fractional digits (Xero's) are trimmed to six.
    A value outside the years 1 to 9999 raises :class:`ValueError`, like any other bad value.
    """
    text = value.strip()
    try:
        match = _MS_DATE.match(text) if text.startswith("/") else None
        if match:
            return _EPOCH + timedelta(milliseconds=int(match.group(1)))
        try:  # Python 3.11's parser takes "Z" and trims the seventh digit itself
            moment = datetime.fromisoformat(text)
        except ValueError:
            text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
            moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the date is outside the years 1 to 9999") from None


def parse_ms_date(value: str) -> date:
    """Parse a calendar date: ``/Date(ms±hhmm)/`` (local to its offset) or ISO 8601.

    A value outside the years 1 to 9999 raises :class:`ValueError`, like any other bad value.
    """
    text = value.strip()
    match = _MS_DATE.match(text)
    if not match:
        return date.fromisoformat(text[:10])
    try:
        moment = _EPOCH + timedelta(milliseconds=int(match.group(1)))
        if match.group(2):
            sign = 1 if match.group(2)[0] == "+" else -1
            moment += sign * timedelta(
                hours=int(match.group(2)[1:3]), minutes=int(match.group(2)[3:])
            )
    except OverflowError:
        raise ValueError("the date is outside the years 1 to 9999") from None
    return moment.date()


def _decimal(value: Any, _: object = None) -> Decimal:
    if isinstance(value, bool | float):
        raise TypeError(f"{value!r} is not an exact number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str):
        return Decimal(value)
    raise TypeError(f"{value!r} is not a number")


def _date(value: Any, _: object = None) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a date")
    return _cached_date(value)


_cached_date = functools.lru_cache(maxsize=1024)(parse_ms_date)
""":func:`parse_ms_date`, remembered: a page's dates repeat (a billing run's issue and due
dates are the same for every invoice), and a ``date`` is immutable."""


def _datetime(value: Any, _: object = None) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a date and time")
    return parse_ms_datetime(value)


converter = make_json_converter(detailed_validation=False)
"""The Xero provider's converter (use :func:`structure` / :func:`unstructure`).

cattrs' preconfigured JSON converter. Structuring hooks for the wire classes are generated
once per class by :func:`_structure_factory` (every field's conversion written inline, no
per-field dispatch); :func:`structure` turns any failure into a cattrs validation error.
"""

converter.register_structure_hook(Decimal, _decimal)
converter.register_unstructure_hook(Decimal, lambda value: value)
converter.register_structure_hook(date, _date)
converter.register_unstructure_hook(date, date.isoformat)
converter.register_structure_hook(datetime, _datetime)
converter.register_unstructure_hook(datetime, lambda value: value.astimezone(UTC).isoformat())

_NONE = type(None)
# What the generic converter does with each scalar (``str(v)``, ``bool(v)``, ...): the
# conversion, and the test that lets a value of exactly that type through without it (so the
# result is the same, without a call).
_SCALARS: Mapping[Any, tuple[str | None, str]] = {
    str: ("v.__class__ is str", "str(v)"),
    bool: ("v.__class__ is bool", "bool(v)"),
    int: ("v.__class__ is int", "int(v)"),
    Decimal: ("v.__class__ is Decimal", "_decimal(v)"),
    date: (None, "_cached_date(v) if v.__class__ is str else _date(v)"),
    datetime: (None, "parse_ms_datetime(v) if v.__class__ is str else _datetime(v)"),
}


def _scalar(kind: Any, value: str, optional: bool) -> str:
    exact, conversion = _SCALARS[kind]
    if optional:
        conversion = f"(None if v is None else {conversion})"
    expression = f"v if {exact} else {conversion}" if exact else conversion
    return expression if value == "v" else f"(lambda v: {expression})({value})"


def _expression(kind: Any, owner: type[Any], value: str, names: dict[str, Any]) -> str:
    """Python source converting ``value`` to ``kind`` exactly as the generic hooks would."""
    if get_origin(kind) in (UnionType, Union):
        members = [member for member in get_args(kind) if member is not _NONE]
        if len(members) == 1 and len(get_args(kind)) == 2:
            if members[0] in _SCALARS:
                return _scalar(members[0], value, optional=True)
            inner = _expression(members[0], owner, value, names)
            return f"(None if {value} is None else {inner})"
    elif get_origin(kind) is tuple and len(get_args(kind)) == 2 and get_args(kind)[1] is ...:
        item = _expression(get_args(kind)[0], owner, "e", names)
        return f"tuple([{item} for e in {value}])"
    if kind in _SCALARS:
        return _scalar(kind, value, optional=False)
    # Anything else (a nested wire class, ...): the converter's hook, looked up once; a class
    # that contains itself is looked up on first use, as its own hook is still being made.
    name = f"_h{len(names)}"
    names[f"{name}_type"] = kind
    if kind is owner:
        names[name] = converter.structure
        return f"{name}({value}, {name}_type)"
    names[name] = converter.get_structure_hook(kind)
    return f"{name}({value}, {name}_type)"


def _structure_factory(cls: type[Any]) -> Callable[[Any, type[Any]], Any]:
    """Generate ``cls``'s structuring function, once: wire names and conversions inline.

    Same results and same failures as cattrs' generic hooks (a missing required field is a
    ``KeyError``, a bad value the scalar's own error), at a fraction of the cost.
    """
    hints = get_type_hints(cls)
    names: dict[str, Any] = {
        "_cls": cls,
        "_decimal": _decimal,
        "_date": _date,
        "_cached_date": _cached_date,
        "parse_ms_datetime": parse_ms_datetime,
        "_datetime": _datetime,
        "Decimal": Decimal,
    }
    # Dicts (what JSON gives) take the fast road: one ``get`` per field with the field's own
    # default, and one call to the class. Any other mapping, or a class with a default
    # factory, goes field by field into keyword arguments, as cattrs' generated code does.
    by_key = ["def _by_key(o):", "  res = {}"]
    fast = [
        f"def structure_{cls.__name__}(o, _=None):",
        "  if o.__class__ is not dict:",
        "    return _by_key(o)",
        "  get = o.get",
    ]
    arguments = []
    simple = True
    for attribute in attrs.fields(cls):
        if not attribute.init:
            continue
        key = _wire_name(cls, attribute)
        expression = _expression(hints[attribute.name], cls, "v", names)
        local = f"_{attribute.alias}"
        arguments.append(f"{attribute.alias}={local}")
        if attribute.default is attrs.NOTHING:
            by_key += [f"  v = o[{key!r}]", f"  res[{attribute.alias!r}] = {expression}"]
            fast += [f"  v = o[{key!r}]", f"  {local} = {expression}"]
            continue
        by_key += [
            f"  if {key!r} in o:",
            f"    v = o[{key!r}]",
            f"    res[{attribute.alias!r}] = {expression}",
        ]
        simple = simple and not isinstance(attribute.default, attrs.Factory)  # type: ignore[arg-type]
        if attribute.default is None and _NONE in get_args(hints[attribute.name]):
            # ``X | None = None``: the expression already turns a missing None into None.
            fast += [f"  v = get({key!r})", f"  {local} = {expression}"]
            continue
        default = f"_default_{attribute.alias}"
        names[default] = attribute.default
        fast += [
            f"  v = get({key!r}, {default})",
            f"  {local} = v if v is {default} else {expression}",
        ]
    by_key.append("  return _cls(**res)")
    fast.append(f"  return _cls({', '.join(arguments)})")
    lines = by_key + (fast if simple else [f"structure_{cls.__name__} = _by_key"])
    source = "\n".join(lines)
    filename = f"<ams_billing.providers.xero.wire structure {cls.__qualname__}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), names)  # noqa: S102 - our own generated source
    function: Callable[[Any, type[Any]], Any] = names[f"structure_{cls.__name__}"]
    return function


def _unstructure_factory(cls: type[Any]) -> Callable[[Any], Any]:
    renames = {a.name: override(rename=_wire_name(cls, a)) for a in attrs.fields(cls)}
    return make_dict_unstructure_fn(
        cls,
        converter,
        _cattrs_omit_if_default=True,
        **renames,  # type: ignore[arg-type]
    )


converter.register_structure_hook_factory(attrs.has, _structure_factory)
converter.register_unstructure_hook_factory(attrs.has, _unstructure_factory)


def structure(data: Any, cls: type[T]) -> T:
    """Build a wire object from parsed JSON (raises a cattrs error when it does not fit)."""
    try:
        return converter.structure(data, cls)
    except cattrs.BaseValidationError:
        raise
    except Exception as error:  # what a field's conversion raised, as cattrs would report it
        raise cattrs.ClassValidationError(
            f"While structuring {cls.__name__}", [error], cls
        ) from None


def read(content: bytes, cls: type[T]) -> T:
    """Parse a response body into ``cls``; an unreadable body is the provider's failure."""
    try:
        return structure(loads(content), cls)
    except (ValueError, TypeError, KeyError, cattrs.BaseValidationError):
        raise ProviderUnavailableError(
            f"Xero sent a response that does not read as {cls.__name__}", retryable=False
        ) from None


def unstructure(value: object) -> Any:
    """Turn a wire object into JSON-ready data (Decimals kept exact, unset fields left out)."""
    return converter.unstructure(value)


# -- JSON --------------------------------------------------------------------------------


_DECODER = json.JSONDecoder(parse_float=Decimal)


def loads(body: bytes | bytearray | str) -> Any:
    """Parse JSON with every non-integer number as a ``Decimal``.

    What ``json.loads(body, parse_float=Decimal)`` does, without building a new decoder on
    every call (a sizeable share of decoding a small webhook body).
    """
    if isinstance(body, bytes | bytearray):
        return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    return json.loads(body, parse_float=Decimal)


def dumps(value: Any) -> bytes:
    """Serialise to compact JSON, writing each ``Decimal`` as its exact digits (no floats)."""
    return exactjson.dumps(value)


# -- Accounting API objects --------------------------------------------------------------


@attrs.frozen
class WireMessage:
    """One ``ValidationErrors`` / ``Warnings`` entry."""

    message: str = ""


@attrs.frozen
class WireContact:
    """A contact, in requests and responses (also the summary embedded in an invoice)."""

    contact_id: str | None = None
    contact_number: str | None = None
    account_number: str | None = None
    contact_status: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email_address: str | None = None
    updated_date_utc: datetime | None = None
    has_validation_errors: bool | None = None
    status_attribute_string: str | None = None
    validation_errors: tuple[WireMessage, ...] = ()


@attrs.frozen
class WireLineItem:
    """An invoice line."""

    line_item_id: str | None = None
    description: str | None = None
    quantity: Decimal | None = None
    unit_amount: Decimal | None = None
    account_code: str | None = None
    tax_type: str | None = None
    tax_amount: Decimal | None = None
    line_amount: Decimal | None = None
    validation_errors: tuple[WireMessage, ...] = ()


@attrs.frozen
class WireInvoice:
    """A sales invoice (``Type`` ACCREC), in requests and responses.

    ``line_items`` is ``None`` when Xero left the lines out (an unpaged list read).
    """

    invoice_type: str | None = attrs.field(default=None, metadata={WIRE_NAME: "Type"})
    invoice_id: str | None = None
    invoice_number: str | None = None
    reference: str | None = None
    contact: WireContact | None = None
    invoice_date: date | None = attrs.field(default=None, metadata={WIRE_NAME: "Date"})
    due_date: date | None = None
    status: str | None = None
    line_amount_types: str | None = None
    line_items: tuple[WireLineItem, ...] | None = None
    sub_total: Decimal | None = None
    total_tax: Decimal | None = None
    total: Decimal | None = None
    amount_due: Decimal | None = None
    amount_paid: Decimal | None = None
    currency_code: str | None = None
    fully_paid_on_date: date | None = None
    sent_to_contact: bool | None = None
    updated_date_utc: datetime | None = None
    has_errors: bool | None = None
    status_attribute_string: str | None = None
    validation_errors: tuple[WireMessage, ...] = ()


@attrs.frozen
class WireAccount:
    """An account reference (by code) in a payment."""

    code: str | None = None


@attrs.frozen
class WirePayment:
    """A payment against an invoice (used by the live test driver and for reading payments)."""

    payment_id: str | None = None
    invoice: WireInvoice | None = None
    account: WireAccount | None = None
    payment_date: date | None = attrs.field(default=None, metadata={WIRE_NAME: "Date"})
    amount: Decimal | None = None
    status: str | None = None
    status_attribute_string: str | None = None
    validation_errors: tuple[WireMessage, ...] = ()


@attrs.frozen
class PaymentsEnvelope:
    """``{"Payments": [...]}``."""

    payments: tuple[WirePayment, ...] = ()


@attrs.frozen
class Pagination:
    """The ``pagination`` object of a paged response."""

    WIRE_CASE: ClassVar[str] = "camel"

    page: int = 1
    page_size: int = 0
    page_count: int = 0
    item_count: int = 0


@attrs.frozen
class InvoicesEnvelope:
    """``{"Invoices": [...], "pagination": {...}}``."""

    invoices: tuple[WireInvoice, ...] = ()
    pagination: Pagination | None = attrs.field(default=None, metadata={WIRE_NAME: "pagination"})


@attrs.frozen
class ContactsEnvelope:
    """``{"Contacts": [...]}``."""

    contacts: tuple[WireContact, ...] = ()


@attrs.frozen
class OnlineInvoice:
    """One ``OnlineInvoices`` entry."""

    online_invoice_url: str | None = None


@attrs.frozen
class OnlineInvoicesEnvelope:
    """``{"OnlineInvoices": [{"OnlineInvoiceUrl": ...}]}``."""

    online_invoices: tuple[OnlineInvoice, ...] = ()


@attrs.frozen
class Organisation:
    """The few ``Organisation`` fields the provider reads."""

    name: str | None = None
    is_demo_company: bool | None = None
    base_currency: str | None = None


@attrs.frozen
class OrganisationsEnvelope:
    """``{"Organisations": [...]}``."""

    organisations: tuple[Organisation, ...] = ()


@attrs.frozen
class WireElement:
    """An element of a 400 ``ValidationException``: errors, maybe nested in Contact/LineItems."""

    validation_errors: tuple[WireMessage, ...] = ()
    contact: WireElement | None = None
    line_items: tuple[WireElement, ...] | None = None


@attrs.frozen
class ValidationException:
    """Xero's 400 body (``ApiException``)."""

    error_number: int | None = None
    exception_type: str | None = attrs.field(default=None, metadata={WIRE_NAME: "Type"})
    message: str | None = None
    elements: tuple[WireElement, ...] = ()


@attrs.frozen
class Problem:
    """The problem document of a 401/403: ``Detail`` says what went wrong."""

    title: str | None = None
    status: int | None = None
    detail: str | None = None


@attrs.frozen
class TokenResponse:
    """The token endpoint's answer."""

    WIRE_CASE: ClassVar[str] = "snake"

    access_token: str = attrs.field(repr=False)
    expires_in: int = 1800
    token_type: str = "Bearer"  # noqa: S105 - a token type, not a secret
    scope: str | None = None


@attrs.frozen
class TokenError:
    """The token endpoint's 400 body, e.g. ``{"error": "invalid_client"}``."""

    WIRE_CASE: ClassVar[str] = "snake"

    error: str | None = None
    error_description: str | None = None


@attrs.frozen
class Connection:
    """One ``GET /connections`` entry."""

    WIRE_CASE: ClassVar[str] = "camel"

    tenant_id: str
    tenant_type: str | None = None
    tenant_name: str | None = None


# -- webhooks ----------------------------------------------------------------------------


@attrs.frozen
class WebhookEventBody:
    """One event of a delivery, as Xero spells it (camelCase; everything optional)."""

    WIRE_CASE: ClassVar[str] = "camel"

    resource_id: str | None = None
    resource_url: str | None = None
    event_date_utc: str | None = None
    event_type: str | None = None
    event_category: str | None = None
    tenant_id: str | None = None
    tenant_type: str | None = None


@attrs.frozen
class WebhookPayload:
    """A delivery body; sequences are 0 in an Intent-to-Receive check."""

    WIRE_CASE: ClassVar[str] = "camel"

    events: tuple[WebhookEventBody, ...] = ()
    first_event_sequence: int | None = None
    last_event_sequence: int | None = None
    entropy: str | None = None
