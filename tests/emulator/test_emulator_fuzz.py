"""Light fuzzing of the JSON endpoints: odd numbers never cost a dropped connection or a 500.

Bodies are written by hand so that they can carry what ``json.dumps`` will not write: huge and
tiny exponents, 30-digit numbers, ``NaN`` and ``Infinity`` (as literals and as strings). The
in-process transport lets an exception in the engine reach the test (over HTTP the same
exception closes the connection without a response); one example also runs over loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from emulator_helpers import API, fee_invoice_over_http
from hypothesis import given, settings
from hypothesis import strategies as st

from ams_billing.contracts.xero_emulator import authorised_client
from ams_billing.emulators.xero import EmulatorClock, EmulatorConfig, XeroEmulator

ODD_LITERALS = [
    "NaN", "Infinity", "-Infinity", "1e30", "-1e30", "1E+999999999", "1e-999999999", "1e1000",
    "1e-1000", "9" * 30, "-" + "9" * 30, "0.000000000000000000000000000001", "-0", "0e5",
    "9999999999.99", "9999999999.995", "1" * 400, "2e9", "1e-5", "100", "0", "null", "true",
    "[]", "{}",
]  # fmt: skip
ODD_STRINGS = [
    "NaN", "nan", "Infinity", "-Infinity", "inf", "sNaN", "1e30", "1E+999999999", "1e-999999999",
    "9" * 30, " 12.5 ", "1_000", "0x10", "", " ", "12,50", "١٢", "+5", ".5", "5.", "1e",
]  # fmt: skip


def _token() -> st.SearchStrategy[str]:
    """One JSON value, as text: odd literals, odd strings, and generated numbers."""
    return st.one_of(
        st.sampled_from(ODD_LITERALS),
        st.sampled_from(ODD_STRINGS).map(json.dumps),
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
        st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: format(d, "")),
        st.builds(
            lambda m, e: f"{m}e{e}",
            st.integers(min_value=-999, max_value=999),
            st.integers(min_value=-2000, max_value=2000),
        ),
        st.decimals(allow_nan=True, allow_infinity=True).map(lambda d: json.dumps(str(d))),
    )


INVOICE_FIELDS = ["Quantity", "UnitAmount", "LineAmount", "TaxAmount", "DiscountRate"]


@pytest.fixture(scope="module")
def fuzz_emulator() -> XeroEmulator:
    return XeroEmulator(EmulatorConfig(rate_limits=False), clock=EmulatorClock.virtual())


@pytest.fixture(scope="module")
def fuzz_api(fuzz_emulator: XeroEmulator) -> Iterator[httpx.Client]:
    with authorised_client(fuzz_emulator) as client:
        yield client


@pytest.fixture(scope="module")
def targets(fuzz_api: httpx.Client) -> dict[str, str]:
    contact_id, invoice_id = fee_invoice_over_http(fuzz_api, "Fuzz")
    return {"contact": contact_id, "invoice": invoice_id}


def _send(api: httpx.Client, method: str, path: str, body: str) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    return api.request(method, path, content=body.encode(), headers=headers)


def _answered(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code == 400:
        document = response.json()  # strict JSON: no NaN written back
        assert document["Type"] in ("ValidationException", "QueryParseException")


def _line(field: str, token: str) -> str:
    parts = {"Description": '"Fee"', "Quantity": "1", "UnitAmount": "10", "AccountCode": '"200"'}
    parts[field] = token
    return "{" + ",".join(f'"{k}":{v}' for k, v in parts.items()) + "}"


@given(field=st.sampled_from(INVOICE_FIELDS), token=_token(), kind=st.sampled_from(["put", "post"]))
@settings(max_examples=120)
def test_invoice_lines_with_odd_numbers(fuzz_api, targets, field, token, kind):
    line = _line(field, token)
    if kind == "put":
        body = (
            f'{{"Type":"ACCREC","Contact":{{"ContactID":"{targets["contact"]}"}},'
            f'"Status":"AUTHORISED","LineItems":[{line}]}}'
        )
        response = _send(fuzz_api, "PUT", f"{API}/Invoices", body)
    else:
        body = f'{{"Status":"DRAFT","LineItems":[{line}]}}'
        response = _send(fuzz_api, "POST", f"{API}/Invoices/{targets['invoice']}", body)
    _answered(response)


@given(token=_token(), summarize=st.booleans())
def test_payments_with_odd_amounts(fuzz_api, targets, token, summarize):
    body = (
        f'{{"Invoice":{{"InvoiceID":"{targets["invoice"]}"}},"Account":{{"Code":"090"}},'
        f'"Amount":{token}}}'
    )
    params = "" if summarize else "?summarizeErrors=false"
    _answered(_send(fuzz_api, "PUT", f"{API}/Payments{params}", body))


@given(
    field=st.sampled_from(["Name", "ContactNumber", "EmailAddress", "IsSupplier", "Phones"]),
    token=_token(),
)
def test_contacts_with_odd_values(fuzz_api, field, token):
    name = '"Fuzz contact"' if field != "Name" else token
    extra = f',"{field}":{token}' if field != "Name" else ""
    _answered(_send(fuzz_api, "PUT", f"{API}/Contacts", f'{{"Name":{name}{extra}}}'))


@pytest.mark.parametrize("op", [">", "=="])
@pytest.mark.parametrize("token", ODD_LITERALS + ODD_STRINGS)
def test_where_filters_with_odd_numbers(fuzz_api, targets, token, op):
    _answered(fuzz_api.get(f"{API}/Invoices", params={"where": f"AmountDue{op}{token}"}))


@given(
    path=st.sampled_from(["/_emulator/payments", "/_emulator/clock/advance"]),
    token=_token(),
)
def test_control_surface_with_odd_numbers(path, token):
    emulator = XeroEmulator(EmulatorConfig(rate_limits=False), clock=EmulatorClock.virtual())
    with authorised_client(emulator) as client:
        _, invoice_id = fee_invoice_over_http(client)
        key = "Amount" if path.endswith("payments") else "seconds"
        payload = f'{{"InvoiceID":"{invoice_id}","{key}":{token}}}'
        response = _send(client, "POST", path, payload)
        assert response.status_code in (200, 400), response.text
        # Whatever was asked, the emulator still works afterwards.
        assert client.get("/_emulator/books").status_code == 200
        emulator.clock.now()


def test_odd_numbers_over_http_are_answered(xero_emulator, xero_emulator_server):
    """The same inputs over loopback: every request gets an answer, none a cut connection."""
    with authorised_client(xero_emulator, xero_emulator_server.base_url) as client:
        contact = client.put(f"{API}/Contacts", json={"Name": "Ada"}).json()["Contacts"][0]
        for token in ODD_LITERALS:
            line = _line("Quantity", token)
            body = (
                f'{{"Type":"ACCREC","Contact":{{"ContactID":"{contact["ContactID"]}"}},'
                f'"LineItems":[{line}]}}'
            )
            _answered(_send(client, "PUT", f"{API}/Invoices", body))
