"""The generated structuring hooks give what cattrs' generic hooks gave, results and failures."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs
import cattrs
import pytest
from cattrs.gen import make_dict_structure_fn, override

from ams_billing.providers.xero import wire


def _generic() -> cattrs.Converter:
    """The wire converter as it was: a plain Converter, generic hooks, wire names."""
    old = cattrs.Converter()
    old.register_structure_hook(Decimal, wire._decimal)
    old.register_structure_hook(date, wire._date)
    old.register_structure_hook(datetime, wire._datetime)

    def factory(cls: type[Any]) -> Any:
        renames = {a.name: override(rename=wire._wire_name(cls, a)) for a in attrs.fields(cls)}
        return make_dict_structure_fn(cls, old, **renames)  # type: ignore[arg-type]

    old.register_structure_hook_factory(attrs.has, factory)
    return old


GENERIC = _generic()


class _Mapping(Mapping[str, Any]):
    """A mapping that is not a dict (takes the field-by-field road)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


INVOICE = {
    "Type": "ACCREC",
    "InvoiceID": "5c3f1f0e-1111-2222-3333-444455556666",
    "InvoiceNumber": 42,  # a number where a string belongs: str() as before
    "Contact": {"ContactID": "c-1", "Name": "Ann", "HasValidationErrors": "yes"},
    "Date": "/Date(1782864000000+0000)/",
    "DueDate": "2026-07-31T00:00:00",
    "Status": "AUTHORISED",
    "LineItems": [{"Quantity": 1, "UnitAmount": "10.10", "LineAmount": Decimal("10.10")}],
    "SubTotal": Decimal("10.10"),
    "Total": 12,
    "AmountDue": None,
    "UpdatedDateUTC": "2026-01-15T09:00:00.1234567Z",
    "ValidationErrors": [{"Message": "x"}],
    "Ignored": {"nested": [1, 2]},
}

CASES: list[tuple[type[Any], Any]] = [
    (wire.InvoicesEnvelope, {"Invoices": [INVOICE], "pagination": {"page": "2", "pageCount": 3}}),
    (wire.InvoicesEnvelope, {"Invoices": [_Mapping(INVOICE)]}),
    (wire.InvoicesEnvelope, []),
    (wire.InvoicesEnvelope, {}),
    (wire.WireInvoice, {"LineItems": None, "Contact": None}),
    (wire.WireInvoice, {"Total": 1.5}),  # a float: refused
    (wire.WireInvoice, {"Total": True}),  # a bool: refused
    (wire.WireInvoice, {"Date": 17}),  # not a date
    (wire.WireInvoice, {"Date": "not a date"}),
    (wire.WireInvoice, {"ValidationErrors": None}),  # None where a tuple belongs
    (wire.WireInvoice, {"LineItems": "abc"}),
    (wire.WireInvoice, 5),
    (wire.TokenResponse, {"access_token": "t", "expires_in": "1800"}),
    (wire.TokenResponse, {"expires_in": 1800}),  # the required token missing
    (wire.TokenResponse, _Mapping({"access_token": 7})),
    (wire.ValidationException, {"Elements": [{"Contact": {"ValidationErrors": [{}]}}]}),
    (wire.WebhookPayload, {"events": [{"resourceId": "r", "eventDateUtc": None}], "entropy": 1}),
    (wire.Connection, {"tenantId": "t", "tenantType": "ORGANISATION"}),
]


@pytest.mark.parametrize(("cls", "data"), CASES)
def test_generated_hooks_match_the_generic_ones(cls: type[Any], data: Any) -> None:
    try:
        expected = GENERIC.structure(data, cls)
    except Exception:  # any failure: the new hooks must fail too
        with pytest.raises(cattrs.BaseValidationError):
            wire.structure(data, cls)
    else:
        assert wire.structure(data, cls) == expected


def test_read_turns_every_failure_into_the_providers_error() -> None:
    from ams_billing.core.errors import ProviderUnavailableError

    bodies = (
        b"{",
        b'{"Invoices": [{"Total": true}]}',
        b'{"Invoices": 3}',
        b'{"Invoices": [{"Date": 17}]}',
    )
    for body in bodies:
        with pytest.raises(ProviderUnavailableError):
            wire.read(body, wire.InvoicesEnvelope)


def test_loads_is_json_loads_with_decimals() -> None:
    import json

    for body in (b'{"a": 1.10, "b": [1, "\\u00e9"]}', '{"a": 2.5}'.encode("utf-16"), b"3"):
        assert wire.loads(body) == json.loads(body, parse_float=Decimal)
    assert wire.loads('{"a": 0.1}') == {"a": Decimal("0.1")}


@pytest.mark.parametrize(
    "value",
    [
        "2026-07-01T00:00:00.000",
        "2026-07-01T00:00:00.1234567",
        "2026-07-01T00:00:00Z",
        "2026-07-01T00:00:00.1234567Z",
        "2026-07-01T12:00:00+13:00",
        " 2026-07-01 ",
        "/Date(1518685950940+0000)/",
        "/Date(-62135596800000)/",
    ],
)
def test_datetimes_parse_as_before(value: str) -> None:
    import re
    from datetime import UTC, timedelta

    def before(text: str) -> datetime:
        text = text.strip()
        match = re.match(r"^/Date\((-?\d+)([+-]\d{4})?\)/$", text)
        if match:
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match.group(1)))
        text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    assert wire.parse_ms_datetime(value) == before(value)
