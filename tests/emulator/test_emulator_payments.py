from __future__ import annotations

from decimal import Decimal

import pytest
from emulator_helpers import API, decimal_json, fee_invoice_over_http, messages

from ams_billing.emulators.xero import EmulatorError

D = Decimal


def pay(invoice_id: str, amount: str, code: str = "090") -> dict:
    return {
        "Invoice": {"InvoiceID": invoice_id},
        "Account": {"Code": code},
        "Date": "2026-01-20",
        "Amount": amount,
    }


def fetch(api, invoice_id: str) -> dict:
    return decimal_json(api.get(f"{API}/Invoices/{invoice_id}"))["Invoices"][0]


def test_partial_then_full_payment(api, make_invoice):
    inv = make_invoice("100.00")  # total 115.00
    first = api.put(f"{API}/Payments", json={"Payments": [pay(inv["InvoiceID"], "15.00")]})
    assert first.status_code == 200
    assert first.json()["Payments"][0]["PaymentType"] == "ACCRECPAYMENT"
    partly = fetch(api, inv["InvoiceID"])
    assert (partly["Status"], partly["AmountPaid"], partly["AmountDue"]) == (
        "AUTHORISED",
        D("15.00"),
        D("100.00"),
    )
    assert "FullyPaidOnDate" not in partly
    api.post(f"{API}/Payments", json=pay(inv["InvoiceID"], "100.00"))
    paid = fetch(api, inv["InvoiceID"])
    assert paid["Status"] == "PAID"
    assert paid["AmountDue"] == D("0.00")
    assert paid["FullyPaidOnDate"] == "/Date(1768867200000+0000)/"
    assert len(paid["Payments"]) == 2


def test_overpayment_is_refused(api, make_invoice):
    inv = make_invoice("100.00")
    response = api.put(f"{API}/Payments", json=pay(inv["InvoiceID"], "115.01"))
    assert response.status_code == 400
    assert messages(response.json()) == [
        "Payment amount exceeds the amount outstanding on this document"
    ]


@pytest.mark.parametrize("status", ["DRAFT", "SUBMITTED"])
def test_only_authorised_invoices(api, make_invoice, status):
    inv = make_invoice(status=status)
    assert api.put(f"{API}/Payments", json=pay(inv["InvoiceID"], "1")).status_code == 400


@pytest.mark.parametrize(
    ("code", "ok"), [("090", True), ("970", True), ("200", False), ("400", False)]
)
def test_payment_account_must_accept_payments(api, make_invoice, code, ok):
    inv = make_invoice()
    response = api.put(f"{API}/Payments", json=pay(inv["InvoiceID"], "1", code))
    assert (response.status_code == 200) is ok


@pytest.mark.parametrize("shape", ["bare", "wrapped"])
def test_delete_payment_returns_invoice_to_authorised(api, make_invoice, shape):
    inv = make_invoice("100.00")
    payment = api.put(f"{API}/Payments", json=pay(inv["InvoiceID"], "115.00")).json()["Payments"][0]
    assert fetch(api, inv["InvoiceID"])["Status"] == "PAID"
    body = {"Status": "DELETED"} if shape == "bare" else {"Payments": [{"Status": "DELETED"}]}
    response = api.post(f"{API}/Payments/{payment['PaymentID']}", json=body)
    assert response.json()["Payments"][0]["Status"] == "DELETED"
    after = fetch(api, inv["InvoiceID"])
    assert (after["Status"], after["AmountDue"], after["Payments"]) == (
        "AUTHORISED",
        D("115.00"),
        [],
    )
    assert api.post(f"{API}/Payments/{payment['PaymentID']}", json=body).status_code == 400


def test_payment_only_delete_allowed(api, make_invoice):
    inv = make_invoice()
    payment = api.put(f"{API}/Payments", json=pay(inv["InvoiceID"], "1")).json()["Payments"][0]
    response = api.post(f"{API}/Payments/{payment['PaymentID']}", json={"Amount": 2})
    assert response.status_code == 400


def test_payment_by_invoice_number(api, make_invoice):
    inv = make_invoice()
    body = {
        "Invoice": {"InvoiceNumber": inv["InvoiceNumber"]},
        "Account": {"Code": "090"},
        "Amount": 5,
    }
    assert api.put(f"{API}/Payments", json=body).status_code == 200


def test_record_payment_control(emu, api, make_invoice):
    inv = make_invoice("10.00")
    payment_id = emu.record_payment(inv["InvoiceID"], D("11.50"))
    assert fetch(api, inv["InvoiceID"])["Status"] == "PAID"
    got = api.get(f"{API}/Payments/{payment_id}").json()["Payments"][0]
    assert got["Amount"] == 11.5
    with pytest.raises(EmulatorError, match="exceeds"):
        emu.record_payment(make_invoice("10.00")["InvoiceID"], "100")
    with pytest.raises(EmulatorError):
        emu.record_payment(make_invoice(status="DRAFT")["InvoiceID"], "1")


def test_payment_batch_summarize_false(api, make_invoice):
    inv = make_invoice("100.00")
    batch = {"Payments": [pay(inv["InvoiceID"], "10"), pay(inv["InvoiceID"], "1000")]}
    response = api.put(f"{API}/Payments", params={"summarizeErrors": "false"}, json=batch)
    ok, bad = response.json()["Payments"]
    assert (ok["StatusAttributeString"], bad["StatusAttributeString"]) == ("OK", "ERROR")
    assert fetch(api, inv["InvoiceID"])["AmountPaid"] == D("10.00")


def test_paid_invoice_lines_cannot_change_but_reference_can(api, make_invoice):
    inv = make_invoice("10.00")
    api.put(f"{API}/Payments", json=pay(inv["InvoiceID"], "5"))
    changed = api.post(
        f"{API}/Invoices/{inv['InvoiceID']}",
        json={
            "LineItems": [
                {"Description": "x", "Quantity": 1, "UnitAmount": 99, "AccountCode": "200"}
            ]
        },
    )
    assert changed.status_code == 400
    ref = api.post(f"{API}/Invoices/{inv['InvoiceID']}", json={"Reference": "member 7"})
    assert ref.status_code == 200
    assert fetch(api, inv["InvoiceID"])["Reference"] == "member 7"


@pytest.mark.parametrize("amount", ["1e30", '"1e30"', "1" * 30, '"-1e30"', '"1E+999"'])
def test_a_huge_amount_is_a_400(api, emu, make_invoice, amount):
    inv = make_invoice("100.00")
    body = (
        f'{{"Invoice":{{"InvoiceID":"{inv["InvoiceID"]}"}},"Account":{{"Code":"090"}},'
        f'"Amount":{amount}}}'
    )
    response = api.put(
        f"{API}/Payments", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["Type"] == "ValidationException"
    assert any("Amount" in m and "9,999,999,999.99" in m for m in messages(response.json()))
    assert emu.books().payments == ()


def test_a_huge_amount_is_a_400_over_http_not_a_dropped_connection(
    xero_emulator, xero_emulator_server
):
    from ams_billing.contracts.xero_emulator import authorised_client

    with authorised_client(xero_emulator, xero_emulator_server.base_url) as client:
        contact_id, invoice_id = fee_invoice_over_http(client)
        payment = (
            f'{{"Invoice":{{"InvoiceID":"{invoice_id}"}},"Account":{{"Code":"090"}},"Amount":1e30}}'
        )
        response = client.put(
            f"{API}/Payments", content=payment, headers={"Content-Type": "application/json"}
        )
        line = '"LineItems":[{"Description":"Fee","Quantity":1e30,"UnitAmount":1}]'
        huge_line = client.put(
            f"{API}/Invoices",
            content=f'{{"Type":"ACCREC","Contact":{{"ContactID":"{contact_id}"}},{line}}}',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 400
    assert response.json()["Type"] == "ValidationException"
    assert huge_line.status_code == 400
    assert huge_line.json()["Type"] == "ValidationException"
