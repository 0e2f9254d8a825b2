"""Xero's own OpenAPI spec as a fuzzer: every operation the emulator serves, drawn from the spec.

The rule (see ``openapi_fuzz``): every request is answered, never with a 5xx, and every answer
the spec documents a schema for (every 2xx, and the 400s) validates against it. A write that
succeeds is read back by id, so a stored value that breaks the spec shows at once.

Most examples run in-process (fast); a smaller run of every operation goes over loopback HTTP,
where an exception in the engine would have cut the connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from emulator_helpers import API, load_spec, spec_dir
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_fuzz import Call, OpenApi, Operation, check_answer, request_strategy, send

from ams_billing.contracts.xero_emulator import authorised_client
from ams_billing.emulators.xero import EmulatorClock, EmulatorConfig, XeroEmulator
from ams_billing.emulators.xero.server import EmulatorServer

SPEC_FILE = "xero_accounting.yaml"
IN_PROCESS_EXAMPLES = {"get": 15, "put": 60, "post": 60}
OVER_HTTP_EXAMPLES = 4
#: The operations the emulator is known to serve; the walk must find at least these.
EXPECTED = {
    "GET /Contacts", "PUT /Contacts", "POST /Contacts", "GET /Contacts/{ContactID}",
    "POST /Contacts/{ContactID}", "GET /Contacts/{ContactNumber}", "GET /Invoices",
    "PUT /Invoices", "POST /Invoices", "GET /Invoices/{InvoiceID}", "POST /Invoices/{InvoiceID}",
    "GET /Invoices/{InvoiceID}/OnlineInvoice", "POST /Invoices/{InvoiceID}/Email",
    "GET /Payments", "PUT /Payments", "POST /Payments", "GET /Payments/{PaymentID}",
    "POST /Payments/{PaymentID}", "GET /Organisation", "GET /Organisation/Actions",
    "GET /Accounts", "GET /Accounts/{AccountID}", "GET /Currencies", "GET /TaxRates",
}  # fmt: skip
#: Read back after a successful write: the collection key, its id field and path.
READ_BACK = {
    "Contacts": ("ContactID", "GET /Contacts/{ContactID}"),
    "Invoices": ("InvoiceID", "GET /Invoices/{InvoiceID}"),
    "Payments": ("PaymentID", "GET /Payments/{PaymentID}"),
}


def served_operations() -> list[Operation]:
    """Every path and method of the spec that the emulator routes to a handler."""
    if spec_dir() is None:
        return []
    api = OpenApi(load_spec(SPEC_FILE))
    emulator = XeroEmulator(EmulatorConfig(), clock=EmulatorClock.virtual())
    placeholder = {p: "x" for op in api.operations() for p in _path_names(op)}
    return [
        op for op in api.operations() if emulator.serves(op.method, API + op.path_with(placeholder))
    ]


def _path_names(operation: Operation) -> list[str]:
    return [p["name"] for p in operation.parameters if p["in"] == "path"]


OPERATIONS = served_operations()
NO_SPEC = pytest.mark.skip(
    reason="Xero OpenAPI spec not found at ../shared/reference/xero-openapi; "
    "set AMS_BILLING_XERO_OPENAPI_DIR"
)
PARAMS = [pytest.param(op, id=op.id) for op in OPERATIONS] or [pytest.param(None, marks=NO_SPEC)]
# No shrinking: the failing call is in the assertion message, and shrinking bodies this deep
# can take minutes.
FUZZ = settings(
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def spec_api(openapi) -> OpenApi:
    """The spec (the ``openapi`` fixture skips the test when it is absent)."""
    return OpenApi(openapi(SPEC_FILE))


@pytest.fixture(scope="module")
def fuzz_emulator() -> XeroEmulator:
    return XeroEmulator(EmulatorConfig(rate_limits=False), clock=EmulatorClock.virtual())


@pytest.fixture(scope="module")
def known(fuzz_emulator: XeroEmulator) -> dict[str, list[str]]:
    """Records the fuzz can name: two contacts, invoices in three states, a payment."""
    with authorised_client(fuzz_emulator) as client:
        contacts = [
            client.put(f"{API}/Contacts", json={"Name": name, "ContactNumber": number}).json()
            for name, number in (("Fuzz One", "F1"), ("Fuzz Two", "F2"))
        ]
        contact_ids = [c["Contacts"][0]["ContactID"] for c in contacts]
        invoice_ids = []
        for status in ("AUTHORISED", "AUTHORISED", "DRAFT"):
            line = {"Description": "Fee", "Quantity": 1, "UnitAmount": 50, "AccountCode": "200"}
            body = {
                "Type": "ACCREC",
                "Contact": {"ContactID": contact_ids[0]},
                "Status": status,
                "LineItems": [line],
            }
            invoice = client.put(f"{API}/Invoices", json=body).json()["Invoices"][0]
            invoice_ids.append(invoice["InvoiceID"])
        payment = {
            "Invoice": {"InvoiceID": invoice_ids[0]},
            "Account": {"Code": "090"},
            "Amount": 10,
        }
        payment_id = client.put(f"{API}/Payments", json=payment).json()["Payments"][0]["PaymentID"]
        accounts = [a["AccountID"] for a in client.get(f"{API}/Accounts").json()["Accounts"]]
        tax_types = [t["TaxType"] for t in client.get(f"{API}/TaxRates").json()["TaxRates"]]
    return {
        "ContactID": contact_ids,
        "ContactNumber": ["F1", "F2"],
        "InvoiceID": invoice_ids,
        "PaymentID": [payment_id],
        "AccountID": accounts,
        "TaxType": tax_types,
    }


def hints(known: dict[str, list[str]]) -> dict[str, st.SearchStrategy[Any]]:
    """Values that make a fair share of the calls succeed (and so reach the 2xx checks)."""
    found: dict[str, st.SearchStrategy[Any]] = {
        name: st.sampled_from(values) for name, values in known.items()
    }
    small = st.one_of(st.integers(0, 100), st.sampled_from(["1.5", "0.01", "12.345"]))
    found |= {
        "AccountCode": st.sampled_from(["200", "090"]),
        "Code": st.sampled_from(["090", "200"]),
        "Type": st.just("ACCREC"),
        "Status": st.sampled_from(["AUTHORISED", "DRAFT", "DELETED", "VOIDED"]),
        "CurrencyCode": st.just("NZD"),
        "Quantity": small,
        "UnitAmount": small,
        "Amount": small,
        "Date": st.sampled_from(["2026-01-15", "/Date(1768435200000+0000)/"]),
        "Name": st.uuids().map(lambda u: f"Member {u}"),
        "EmailAddress": st.sampled_from(["ada@example.com", ""]),
        "ContactStatus": st.just("ACTIVE"),
        "Description": st.just("Fee"),
        "Contact": st.fixed_dictionaries({"ContactID": st.sampled_from(known["ContactID"])}),
        "Invoice": st.fixed_dictionaries({"InvoiceID": st.sampled_from(known["InvoiceID"])}),
        "Account": st.just({"Code": "090"}),
        "where": st.sampled_from(
            ['Status=="AUTHORISED"', "AmountDue>0", 'Name.Contains("Fuzz")', "Code==", "x ~ y"]
        ),
        "page": st.sampled_from(["1", "2", "0", "-1", "x"]),
        "IDs": st.sampled_from(known["ContactID"] + known["InvoiceID"]),
        "Statuses": st.sampled_from(["AUTHORISED", "DRAFT,PAID", ","]),
    }
    return found


def _strategy(api: OpenApi, op: Operation, known: dict[str, list[str]]) -> st.SearchStrategy[Call]:
    return request_strategy(
        api,
        op,
        base=API,
        hints=hints(known),
        skip_parameters=frozenset({"xero-tenant-id"}),
    )


def run(api: OpenApi, client: httpx.Client, call: Call) -> None:
    response = send(client, call)
    check_answer(api, call, response)
    if call.operation.method == "get" or not 200 <= response.status_code < 300:
        return
    document = response.json() if response.content else {}
    for key, (id_field, reader) in READ_BACK.items():
        for element in document.get(key, []):
            if element.get(id_field):
                operation = next(o for o in OPERATIONS if o.id == reader)
                read = Call(operation, API + operation.path_with({id_field: element[id_field]}))
                check_answer(api, read, send(client, read))


@pytest.fixture(scope="module")
def in_process(fuzz_emulator: XeroEmulator) -> Iterator[httpx.Client]:
    with authorised_client(fuzz_emulator) as client:
        yield client


@pytest.fixture(scope="module")
def over_http(fuzz_emulator: XeroEmulator) -> Iterator[httpx.Client]:
    with (
        EmulatorServer(fuzz_emulator) as server,
        authorised_client(fuzz_emulator, server.base_url) as client,
    ):
        yield client


def test_the_walk_finds_every_operation_the_emulator_serves() -> None:
    if not OPERATIONS:
        pytest.skip(NO_SPEC.kwargs["reason"])
    found = {op.id for op in OPERATIONS}
    assert found >= EXPECTED, EXPECTED - found
    # Nothing outside its routing: attachments, history, PDFs and the like are not served.
    assert not {op for op in found if "Attachments" in op or "History" in op}


@pytest.mark.parametrize("operation", PARAMS)
def test_every_operation_in_process(spec_api, known, in_process, operation) -> None:
    @settings(FUZZ, max_examples=IN_PROCESS_EXAMPLES[operation.method])
    @given(call=_strategy(spec_api, operation, known))
    def fuzz(call: Call) -> None:
        run(spec_api, in_process, call)

    fuzz()


@pytest.mark.parametrize("operation", PARAMS)
def test_every_operation_over_loopback_http(spec_api, known, over_http, operation) -> None:
    @settings(FUZZ, max_examples=OVER_HTTP_EXAMPLES)
    @given(call=_strategy(spec_api, operation, known))
    def fuzz(call: Call) -> None:
        run(spec_api, over_http, call)

    fuzz()


def test_the_check_can_fail(spec_api) -> None:
    """A 5xx, an undocumented 2xx and a body outside the schema each fail the rule."""
    operation = next(op for op in spec_api.operations() if op.id == "GET /Invoices")
    call = Call(operation, f"{API}/Invoices")
    bad = [
        httpx.Response(500, json={}),
        httpx.Response(201, json={}),
        httpx.Response(200, json={"Invoices": [{"Status": "BOGUS"}]}),
        httpx.Response(200, json={"Invoices": [{"InvoiceID": "not-a-guid"}]}),
    ]
    for response in bad:
        with pytest.raises(AssertionError):
            check_answer(spec_api, call, response)
    check_answer(spec_api, call, httpx.Response(200, json={"Invoices": [{"Status": "PAID"}]}))
