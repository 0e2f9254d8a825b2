"""Every response body validates against Xero's OpenAPI schemas; spec request examples work."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from emulator_helpers import API

jsonschema = pytest.importorskip("jsonschema")


def response_schema(spec: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    responses = spec["paths"][path][method.lower()]["responses"]
    entry = responses[str(status)]
    if "$ref" in entry:
        entry = spec["components"]["responses"][entry["$ref"].rsplit("/", 1)[-1]]
    return entry["content"]["application/json"]["schema"]


def validate(spec: dict[str, Any], schema: dict[str, Any], instance: Any, draft: str = "4") -> None:
    root = {**schema, "components": spec["components"]}
    cls = jsonschema.Draft4Validator if draft == "4" else jsonschema.Draft202012Validator
    cls(root).validate(instance)


class Checker:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.checked: list[tuple[str, str, int]] = []

    def __call__(self, response: httpx.Response, spec_path: str) -> httpx.Response:
        method = response.request.method
        schema = response_schema(self.spec, spec_path, method, response.status_code)
        validate(self.spec, schema, json.loads(response.content))
        self.checked.append((method, spec_path, response.status_code))
        return response


@pytest.fixture
def check(openapi) -> Checker:
    return Checker(openapi("xero_accounting.yaml"))


def test_accounting_responses_match_the_spec(emu, api, check):
    c = check(api.put(f"{API}/Contacts", json={"Name": "Ada", "ContactNumber": "M1"}), "/Contacts")
    contact_id = c.json()["Contacts"][0]["ContactID"]
    check(api.put(f"{API}/Contacts", json={"Name": "Ada"}), "/Contacts")  # 400
    check(
        api.post(
            f"{API}/Contacts",
            params={"summarizeErrors": "false"},
            json={"Contacts": [{"Name": "Ada"}, {"Name": "B"}]},
        ),
        "/Contacts",
    )
    check(api.get(f"{API}/Contacts", params={"page": 1}), "/Contacts")
    check(api.get(f"{API}/Contacts/{contact_id}"), "/Contacts/{ContactID}")
    check(api.get(f"{API}/Contacts/M1"), "/Contacts/{ContactNumber}")
    check(
        api.post(f"{API}/Contacts/{contact_id}", json={"ContactStatus": "ARCHIVED"}),
        "/Contacts/{ContactID}",
    )
    check(
        api.post(f"{API}/Contacts/{contact_id}", json={"ContactStatus": "ACTIVE"}),
        "/Contacts/{ContactID}",
    )
    line = {"Description": "Fee", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"}
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Status": "AUTHORISED",
        "LineItems": [line],
    }
    inv = check(api.put(f"{API}/Invoices", json=body), "/Invoices").json()["Invoices"][0]
    check(
        api.put(f"{API}/Invoices", json={**body, "InvoiceNumber": inv["InvoiceNumber"]}),
        "/Invoices",
    )
    check(
        api.post(
            f"{API}/Invoices",
            params={"summarizeErrors": "false"},
            json={"Invoices": [body, {**body, "CurrencyCode": "USD"}]},
        ),
        "/Invoices",
    )
    check(api.get(f"{API}/Invoices"), "/Invoices")
    check(api.get(f"{API}/Invoices", params={"page": 1, "pageSize": 2}), "/Invoices")
    check(api.get(f"{API}/Invoices", params={"summaryOnly": "true"}), "/Invoices")
    check(api.get(f"{API}/Invoices/{inv['InvoiceID']}"), "/Invoices/{InvoiceID}")
    check(
        api.post(f"{API}/Invoices/{inv['InvoiceID']}", json={"Reference": "r"}),
        "/Invoices/{InvoiceID}",
    )
    check(
        api.get(f"{API}/Invoices/{inv['InvoiceID']}/OnlineInvoice"),
        "/Invoices/{InvoiceID}/OnlineInvoice",
    )
    assert api.post(f"{API}/Invoices/{inv['InvoiceID']}/Email", json={}).status_code == 204
    emu.set_demo_company(True)
    check(
        api.post(f"{API}/Invoices/{inv['InvoiceID']}/Email", json={}), "/Invoices/{InvoiceID}/Email"
    )
    payment = {
        "Invoice": {"InvoiceID": inv["InvoiceID"]},
        "Account": {"Code": "090"},
        "Amount": "11.50",
    }
    check(api.put(f"{API}/Payments", json={**payment, "Amount": 500}), "/Payments")
    pay = check(api.put(f"{API}/Payments", json=payment), "/Payments").json()["Payments"][0]
    check(api.get(f"{API}/Invoices/{inv['InvoiceID']}"), "/Invoices/{InvoiceID}")  # PAID
    check(api.get(f"{API}/Payments"), "/Payments")
    check(api.get(f"{API}/Payments/{pay['PaymentID']}"), "/Payments/{PaymentID}")
    check(
        api.post(f"{API}/Payments/{pay['PaymentID']}", json={"Status": "DELETED"}),
        "/Payments/{PaymentID}",
    )
    check(api.get(f"{API}/Organisation"), "/Organisation")
    check(api.get(f"{API}/Organisation/Actions"), "/Organisation/Actions")
    accounts = check(api.get(f"{API}/Accounts"), "/Accounts").json()["Accounts"]
    check(api.get(f"{API}/Accounts/{accounts[0]['AccountID']}"), "/Accounts/{AccountID}")
    check(api.get(f"{API}/Currencies"), "/Currencies")
    check(api.get(f"{API}/TaxRates"), "/TaxRates")
    assert len(check.checked) >= 30


def test_connections_match_identity_spec(emu, api, openapi):
    spec = openapi("xero-identity.yaml")
    schema = response_schema(spec, "/Connections", "get", 200)
    validate(spec, schema, api.get("/connections").json())
    token = api.post(
        "/connect/token",
        data={"grant_type": "client_credentials"},
        auth=(emu.config.client_id, emu.config.client_secret),
    ).json()
    validate(spec, {"$ref": "#/components/schemas/AccessToken"}, token)


def test_webhook_payloads_match_webhooks_spec(emu, make_invoice, openapi):
    spec = openapi("xero-webhooks.yaml")
    bodies: list[bytes] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        return httpx.Response(200)

    emu.set_webhook_target(receiver)
    invoice = make_invoice()
    emu.record_payment(invoice["InvoiceID"], "1.00")
    emu.deliver_webhooks()
    assert bodies
    for body in bodies:
        validate(
            spec, {"$ref": "#/components/schemas/WebhookEvent"}, json.loads(body), draft="2020"
        )


def _example(spec: dict[str, Any], path: str, method: str) -> Any:
    return copy.deepcopy(
        spec["paths"][path][method]["requestBody"]["content"]["application/json"]["example"]
    )


def test_spec_request_examples_are_accepted(api, openapi, make_contact):
    spec = openapi("xero_accounting.yaml")
    contacts = api.put(f"{API}/Contacts", json=_example(spec, "/Contacts", "put"))
    assert contacts.status_code == 200, contacts.text
    contact_id = make_contact()["ContactID"]
    for method in ("put", "post"):
        example = _example(spec, "/Invoices", method)
        for invoice in example["Invoices"]:
            invoice["Contact"]["ContactID"] = contact_id
        response = api.request(method.upper(), f"{API}/Invoices", json=example)
        assert response.status_code == 200, response.text
    invoice_id = response.json()["Invoices"][0]["InvoiceID"]
    payments = _example(spec, "/Payments", "put")
    payments["Payments"][0]["Invoice"]["InvoiceID"] = invoice_id
    paid = api.put(f"{API}/Payments", json=payments)
    assert paid.status_code == 200, paid.text
    payment_id = paid.json()["Payments"][0]["PaymentID"]
    deleted = api.post(
        f"{API}/Payments/{payment_id}", json=_example(spec, "/Payments/{PaymentID}", "post")
    )
    assert deleted.status_code == 200, deleted.text
    email = api.post(
        f"{API}/Invoices/{invoice_id}/Email",
        json=_example(spec, "/Invoices/{InvoiceID}/Email", "post"),
    )
    assert email.status_code == 204


def test_the_schema_check_can_fail(openapi):
    spec = openapi("xero_accounting.yaml")
    schema = response_schema(spec, "/Invoices", "get", 200)
    with pytest.raises(jsonschema.ValidationError):
        validate(spec, schema, {"Invoices": [{"Status": "BOGUS"}]})
