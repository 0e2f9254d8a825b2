"""The emulator answers every request: known crashes are Xero's 400, anything else a logged 500.

Each case runs in-process and over loopback HTTP (where an exception used to cut the connection:
"Empty reply from server").
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from emulator_helpers import API, fee_invoice_over_http, messages

from ams_billing.contracts.xero_emulator import authorised_client
from ams_billing.emulators.xero import XeroEmulator
from ams_billing.emulators.xero import app as engine
from ams_billing.emulators.xero.server import serve_emulator

FAR_FUTURE = "/Date(999999999999999999)/"
FAR_PAST = "/Date(-999999999999999999+0000)/"


@pytest.fixture(params=["in-process", "loopback"])
def client(request: pytest.FixtureRequest, emu: XeroEmulator) -> Iterator[httpx.Client]:
    if request.param == "in-process":
        with authorised_client(emu) as in_process:
            yield in_process
        return
    with serve_emulator(emu) as server, authorised_client(emu, server.base_url) as over_http:
        yield over_http


@pytest.fixture
def ids(client: httpx.Client) -> dict[str, str]:
    contact_id, invoice_id = fee_invoice_over_http(client)
    return {"contact": contact_id, "invoice": invoice_id}


def assert_validation_400(response: httpx.Response, *expected: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["Type"] == "ValidationException"
    found = " | ".join(messages(body))
    for text in expected:
        assert text in found, found


@pytest.mark.parametrize("status", [{"Name": "AUTHORISED"}, ["AUTHORISED"], [1]])
def test_an_invoice_status_that_is_not_a_string_is_a_400(client, ids, status):
    response = client.post(f"{API}/Invoices/{ids['invoice']}", json={"Status": status})
    assert_validation_400(response, "Status must be a string")
    assert response.json()["Elements"][0]["InvoiceID"] == ids["invoice"]


@pytest.mark.parametrize("field", ["Date", "DueDate"])
@pytest.mark.parametrize("value", [FAR_FUTURE, FAR_PAST, "/Date(253402300800000-0100)/"])
def test_an_invoice_date_out_of_range_is_a_400(client, ids, field, value):
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": ids["contact"]},
        "LineItems": [{"Description": "Fee", "Quantity": 1, "UnitAmount": 5}],
        field: value,
    }
    assert_validation_400(client.put(f"{API}/Invoices", json=body), f"{field} '{value}'")


@pytest.mark.parametrize("value", [FAR_FUTURE, FAR_PAST])
def test_a_payment_date_out_of_range_is_a_400(client, ids, value):
    body = {
        "Invoice": {"InvoiceID": ids["invoice"]},
        "Account": {"Code": "090"},
        "Amount": 1,
        "Date": value,
    }
    assert_validation_400(client.put(f"{API}/Payments", json=body), f"Date '{value}'")


@pytest.mark.parametrize("path", ["Contacts", "Invoices", "Payments"])
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_if_modified_since_out_of_range_is_a_400(client, path, moment):
    response = client.get(f"{API}/{path}", headers={"If-Modified-Since": moment})
    assert_validation_400(response, "If-Modified-Since")


@pytest.fixture
def broken_tax_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``GET /TaxRates`` fail as an emulator bug would (the one stand-in for a bug)."""

    def fail(*_: Any) -> Any:
        raise RuntimeError("a bug in the emulator")

    name, group, _, allowed = engine._ROUTES["taxrates"]
    monkeypatch.setitem(engine._ROUTES, "taxrates", (name, group, fail, allowed))


def test_an_unexpected_exception_is_a_logged_500_in_xeros_error_shape(
    client, emu, broken_tax_rates, caplog
):
    with caplog.at_level(logging.ERROR, logger=engine.__name__):
        response = client.get(f"{API}/TaxRates")
    assert response.status_code == 500
    body = response.json()
    assert body == {
        "ErrorNumber": 500,
        "Type": "UnhandledException",
        "Message": "An unhandled error with the Xero API. "
        "Contact the Xero API team if problems persist",
        "Elements": [],
    }
    correlation_id = response.headers["Xero-Correlation-Id"]
    [record] = [r for r in caplog.records if correlation_id in r.getMessage()]
    assert "GET /api.xro/2.0/TaxRates" in record.getMessage()
    assert record.exc_info is not None
    assert "a bug in the emulator" in str(record.exc_info[1])
    assert emu.calls[-1].status == 500
    # The emulator goes on answering.
    assert client.get(f"{API}/Currencies").status_code == 200


def test_the_500_body_matches_the_specs_error_schema(emu, broken_tax_rates, openapi):
    jsonschema = pytest.importorskip("jsonschema")
    spec = openapi("xero_accounting.yaml")
    with authorised_client(emu) as in_process:
        body = in_process.get(f"{API}/TaxRates").json()
    schema = {"$ref": "#/components/schemas/Error", "components": spec["components"]}
    jsonschema.Draft4Validator(schema).validate(body)


def test_a_failing_control_call_is_a_500_too(
    client, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    def fail(*_: Any) -> Any:
        raise RuntimeError("a bug in the control surface")

    monkeypatch.setattr(engine, "handle_control", fail)
    with caplog.at_level(logging.ERROR, logger=engine.__name__):
        response = client.get("/_emulator/books")
    assert response.status_code == 500
    assert any("/_emulator/books" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------ the HTTP layer


def raw_exchange(base_url: str, head: bytes) -> bytes:
    """Send raw bytes and read the whole answer (the server closes after it)."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("length", "status"),
    # 10 MB (the larger of Xero's published limits) is the most the server reads.
    [("abc", 400), ("-5", 400), ("1" * 5000, 400), (str(10 * 1024 * 1024 + 1), 413)],
)
def test_a_content_length_that_cannot_be_read_is_answered(emu, length, status):
    with serve_emulator(emu) as server:
        head = f"PUT {API}/Contacts HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
        answer = raw_exchange(server.base_url, head.encode())
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert b"Content-Length" in answer


def test_every_answer_reaches_the_client_after_a_500_over_http(
    emu: XeroEmulator, broken_tax_rates: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The same keep-alive connection serves the next request after a 500."""
    with serve_emulator(emu) as server, authorised_client(emu, server.base_url) as http:
        assert http.get(f"{API}/TaxRates").status_code == 500
        assert http.get(f"{API}/Currencies").status_code == 200
