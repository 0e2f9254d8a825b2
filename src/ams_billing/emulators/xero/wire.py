"""Xero's JSON wire format: exact decimals, ``/Date(ms+0000)/`` dates, envelopes and errors.

Money is serialised from :class:`~decimal.Decimal` straight into JSON numbers (``40.00``), never
through ``float``. Request bodies are parsed with every number as a ``Decimal``; ``NaN`` and
``Infinity`` (not JSON) and numbers with an absurd exponent (``1e999999999``) make the body
unparseable, a 400. Amounts and quantities are bounded by :data:`MAX_AMOUNT`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ams_billing.core import exactjson

__all__ = [
    "MAX_AMOUNT",
    "OUT_OF_RANGE",
    "TWO_DP",
    "UNHANDLED",
    "date_string",
    "dumps",
    "envelope",
    "in_range",
    "loads",
    "ms_date",
    "ms_datetime",
    "parse_http_datetime",
    "parse_xero_date",
    "problem",
    "quantize",
    "to_decimal",
    "unhandled_error",
    "validation_exception",
]

TWO_DP = Decimal("0.01")

MAX_AMOUNT = Decimal("9999999999.99")
"""The largest magnitude of an amount or a quantity the emulator accepts.

Xero documents a line's ``LineAmount`` as at most 9,999,999,999.99 (the invoices page,
https://developer.xero.com/documentation/api/accounting/invoices ; xero-api.md §3.2); its OpenAPI
spec types amounts and quantities as ``number``/``double`` with no bound. The emulator applies
the same bound to ``Quantity``, ``UnitAmount``, ``TaxAmount``, ``DiscountRate``, the computed
line amount and a payment's ``Amount``: Xero answers huge values with a ValidationException, but
its limits for those fields and its wording are [U]. Two bounded values (at most 10 integer
digits and 4 decimals each) multiply to at most 28 digits, which the default Decimal context
(precision 28) holds exactly, so rounding a bounded line never raises.
"""

OUT_OF_RANGE = "must be between -9,999,999,999.99 and 9,999,999,999.99"  # [U]
"""The end of the message for an amount or quantity beyond :data:`MAX_AMOUNT`."""

# A number written with an exponent beyond this is refused outright: ``1e999999999`` would take
# a gigabyte to echo back in a 400, and no amount needs it.
_MAX_EXPONENT = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def dumps(value: Any) -> bytes:
    """Serialise to compact JSON with exact decimals (floats allowed: tests send them)."""
    return exactjson.dumps(value, allow_float=True)


def loads(body: bytes) -> Any:
    """Parse a JSON request body; every number becomes a ``Decimal``.

    Raise ``ValueError`` for ``NaN``/``Infinity`` (not JSON) and for a number whose exponent is
    beyond any amount (``1e999999999``).
    """
    return json.loads(body, parse_float=_number, parse_int=_number, parse_constant=_constant)


def _number(text: str) -> Decimal:
    value = Decimal(text)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and abs(exponent) > _MAX_EXPONENT:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise ValueError(f"the number {shown} is out of range")
    return value


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def to_decimal(value: Any) -> Decimal:
    """Convert a JSON number (or numeric string) to ``Decimal``; raise ``ValueError`` if not.

    A string with an absurd exponent (``"1e-999999999"``) is refused as :func:`loads` refuses
    such a number: kept as given, it would be written out in full in the response.
    """
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = _number(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a number") from exc
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise ValueError(f"{value!r} is not a number")
    if not result.is_finite():
        raise ValueError("not a finite number")
    return result


def in_range(value: Decimal) -> bool:
    """Whether ``value``'s magnitude is within :data:`MAX_AMOUNT` (safe to round and multiply)."""
    return value.is_finite() and value.copy_abs() <= MAX_AMOUNT


def quantize(value: Decimal, places: int = 2) -> Decimal:
    """Round half up to ``places`` decimal places, the way Xero rounds amounts."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def ms_datetime(moment: datetime, *, zone: bool = True) -> str:
    """Format an aware datetime as ``/Date(ms+0000)/`` (or ``/Date(ms)/`` without ``zone``)."""
    suffix = "+0000" if zone else ""
    return f"/Date({_ms(moment.astimezone(UTC))}{suffix})/"


def ms_date(day: date) -> str:
    """Format a calendar date as Xero does: midnight UTC, ``/Date(ms+0000)/``."""
    return ms_datetime(datetime.combine(day, time(), tzinfo=UTC))


def date_string(day: date) -> str:
    """Format a calendar date as Xero's ``DateString``: ``2009-05-27T00:00:00``."""
    return f"{day.isoformat()}T00:00:00"


def parse_xero_date(value: Any) -> date:
    """Parse a request date: ``YYYY-MM-DD`` (optionally with a time) or ``/Date(ms±hhmm)/``."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date")
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        try:
            moment = _EPOCH + timedelta(milliseconds=int(match.group(1)))
            if match.group(2):
                sign = 1 if match.group(2)[0] == "+" else -1
                hours, minutes = int(match.group(2)[1:3]), int(match.group(2)[3:5])
                moment += sign * timedelta(hours=hours, minutes=minutes)
        except OverflowError as exc:  # beyond year 1..9999
            raise ValueError(f"{_short(text)!r} is out of range") from exc
        return moment.date()
    match = _ISO_DATE.match(text)
    if match:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    raise ValueError(f"{value!r} is not a date")


def parse_http_datetime(value: str) -> datetime:
    """Parse an ``If-Modified-Since`` value: ISO-8601 (zone optional, UTC assumed) or RFC 1123.

    Raise ``ValueError`` for anything else, and for a moment that is not within year 1..9999 in
    UTC (``0001-01-01T00:00:00+05:00``).
    """
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = datetime.strptime(text, "%a, %d %b %Y %H:%M:%S GMT")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{_short(text)!r} is out of range") from exc


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def envelope(
    correlation_id: str,
    provider_name: str,
    now: datetime,
    key: str,
    items: Sequence[Any],
    *,
    pagination: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Build the standard response envelope ``{"Id", "Status", "ProviderName", "DateTimeUTC"}``."""
    body: dict[str, Any] = {
        "Id": correlation_id,
        "Status": "OK",
        "ProviderName": provider_name,
        "DateTimeUTC": ms_datetime(now, zone=False),
    }
    if pagination is not None:
        body["pagination"] = dict(pagination)
    body[key] = list(items)
    return body


def problem(status: int, title: str, detail: str, instance: str) -> dict[str, Any]:
    """Build an RFC 7807 problem document as Xero sends for 401/403."""
    return {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": instance,
        "Extensions": {},
    }


UNHANDLED = "An unhandled error with the Xero API. Contact the Xero API team if problems persist"
"""Xero's documented text for a 500 (http-response-codes page; xero-api.md §9)."""


def unhandled_error() -> dict[str, Any]:
    """The 500 body the emulator sends when it fails unexpectedly (Xero's ``Error`` shape).

    Xero documents the text of a 500, not its body; the emulator answers it in the ``Error``
    shape of the 400s so a client parses both the same way ([U]).
    """
    return validation_exception(
        message=UNHANDLED, error_number=500, error_type="UnhandledException"
    )


def validation_exception(
    elements: Sequence[Mapping[str, Any]] = (),
    message: str = "A validation exception occurred",
    *,
    error_number: int = 10,
    error_type: str = "ValidationException",
) -> dict[str, Any]:
    """Build the 400 body (``ApiException`` in Xero's XML) listing the failed elements."""
    return {
        "ErrorNumber": error_number,
        "Type": error_type,
        "Message": message,
        "Elements": [dict(element) for element in elements],
    }
