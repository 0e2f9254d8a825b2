from __future__ import annotations

from decimal import Decimal

import pytest
from emulator_helpers import API, decimal_json, messages

D = Decimal


def invoice(contact_id: str, *lines: dict, **fields) -> dict:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "LineItems": list(lines),
        **fields,
    }


def line(unit, qty=1, code="200", **kw) -> dict:
    return {"Description": "Fee", "Quantity": qty, "UnitAmount": unit, "AccountCode": code, **kw}


def test_defaults_draft_exclusive_auto_number(api, make_contact):
    contact = make_contact()
    response = api.put(f"{API}/Invoices", json=invoice(contact["ContactID"], line("10.00")))
    created = decimal_json(response)["Invoices"][0]
    assert created["Status"] == "DRAFT"
    assert created["LineAmountTypes"] == "Exclusive"
    assert created["InvoiceNumber"] == "INV-0001"
    assert created["Total"] == D("11.50")
    assert created["DateString"] == "2026-01-15T00:00:00"
    assert created["Date"] == "/Date(1768435200000+0000)/"
    envelope = response.json()
    assert envelope["Id"] == response.headers["Xero-Correlation-Id"]
    assert envelope["Status"] == "OK"
    assert envelope["DateTimeUTC"].startswith("/Date(")


def test_numbers_increase_and_must_be_unique(api, make_contact, make_invoice):
    first = make_invoice()
    second = make_invoice()
    assert (first["InvoiceNumber"], second["InvoiceNumber"]) == ("INV-0001", "INV-0002")
    contact = make_contact()["ContactID"]
    response = api.put(
        f"{API}/Invoices", json=invoice(contact, line("1"), InvoiceNumber="INV-0001")
    )
    assert response.status_code == 400
    assert messages(response.json()) == ["Invoice # must be unique."]


def test_exact_decimals_on_the_wire(api, make_contact):
    contact = make_contact()["ContactID"]
    response = api.put(f"{API}/Invoices", json=invoice(contact, line("0.10", qty=3)))
    assert b'"SubTotal":0.30' in response.content
    assert b'"LineAmount":0.30' in response.content
    assert b'"Quantity":3.0000' in response.content


@pytest.mark.parametrize(
    ("kind", "lines", "sub", "tax", "total"),
    [
        # per-line rounding: 3 x 0.35 tax = 3 x 0.0525 -> 0.05 each = 0.15 (not 0.16)
        ("Exclusive", [line("0.35")] * 3, "1.05", "0.15", "1.20"),
        ("Inclusive", [line("10.00")], "8.70", "1.30", "10.00"),
        ("Inclusive", [line("0.35")] * 3, "0.90", "0.15", "1.05"),
        ("NoTax", [line("10.00")], "10.00", "0.00", "10.00"),
        ("Exclusive", [line("19.99", qty="2.5")], "49.98", "7.50", "57.48"),
        ("Exclusive", [line("100", TaxType="NONE")], "100.00", "0.00", "100.00"),
    ],
)
def test_per_line_tax_rounding(api, make_contact, kind, lines, sub, tax, total):
    contact = make_contact()["ContactID"]
    body = invoice(contact, *lines, LineAmountTypes=kind)
    created = decimal_json(api.put(f"{API}/Invoices", json=body))["Invoices"][0]
    assert (created["SubTotal"], created["TotalTax"], created["Total"]) == (
        D(sub),
        D(tax),
        D(total),
    )
    assert created["AmountDue"] == D(total)


def test_half_up_rounding_of_line_amount(api, make_contact):
    contact = make_contact()["ContactID"]
    body = invoice(contact, line("0.125", qty=1), LineAmountTypes="NoTax")
    created = decimal_json(api.put(f"{API}/Invoices", json=body))["Invoices"][0]
    # UnitAmount rounded to 2 dp first (0.13), half up
    assert created["LineItems"][0]["UnitAmount"] == D("0.13")
    assert created["Total"] == D("0.13")


def test_unitdp_4(api, make_contact):
    contact = make_contact()["ContactID"]
    body = invoice(contact, line("0.1234", qty=10), LineAmountTypes="NoTax")
    created = decimal_json(api.put(f"{API}/Invoices", params={"unitdp": 4}, json=body))["Invoices"][
        0
    ]
    assert created["LineItems"][0]["UnitAmount"] == D("0.1234")
    assert created["Total"] == D("1.23")
    fetched = decimal_json(api.get(f"{API}/Invoices/{created['InvoiceID']}"))["Invoices"][0]
    assert fetched["LineItems"][0]["UnitAmount"] == D("0.12")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"Contact": {"ContactID": "00000000-0000-4000-8000-000000000000"}}, "could not be found"),
        ({"Contact": {"ContactNumber": "nobody"}}, "could not be found"),
        ({"Contact": {}}, "at least 1 of the following elements"),
        ({"LineItems": [line("1", code="999")]}, "Account code '999' is not a valid code"),
        ({"LineItems": [line("1", code="205")]}, "has been archived"),
        ({"CurrencyCode": "USD"}, "not subscribed to currency USD"),
        ({"LineAmountTypes": "Sideways"}, "LineAmountTypes"),
        ({"Date": "15/01/2026"}, "not a valid date"),
        ({"LineItems": [{"Quantity": 1, "UnitAmount": 1, "AccountCode": "200"}]}, "description"),
        ({"LineItems": [line("1", TaxType="GST on Income")]}, "TaxType code 'GST on Income'"),
        ({"Status": "PAID"}, "valid status"),
    ],
)
def test_invoice_validation(api, make_contact, fields, expected):
    contact = make_contact()["ContactID"]
    body = invoice(contact, line("10"), Status="AUTHORISED") | fields
    response = api.put(f"{API}/Invoices", json=body)
    assert response.status_code == 400, response.text
    assert any(expected in m for m in messages(response.json())), messages(response.json())


def test_contact_by_number_and_by_new_name(emu, api, make_contact):
    make_contact(Name="Ada", ContactNumber="M-7")
    by_number = api.put(
        f"{API}/Invoices", json={**invoice("", line("1")), "Contact": {"ContactNumber": "M-7"}}
    )
    assert by_number.json()["Invoices"][0]["Contact"]["Name"] == "Ada"
    by_name = api.put(
        f"{API}/Invoices", json={**invoice("", line("1")), "Contact": {"Name": "Brand New"}}
    )
    assert by_name.status_code == 200
    # Xero silently creates a contact for an unknown name (trap 12)
    assert {c["Name"] for c in emu.books().contacts} == {"Ada", "Brand New"}


def test_summarize_errors_default_creates_valid_elements(emu, api, make_contact):
    contact = make_contact()["ContactID"]
    batch = {"Invoices": [invoice(contact, line("10")), invoice(contact, line("10", code="999"))]}
    response = api.put(f"{API}/Invoices", json=batch)
    assert response.status_code == 400
    body = response.json()
    assert len(body["Elements"]) == 1
    assert body["Elements"][0]["HasErrors"] is True
    assert len(emu.books().invoices) == 1  # the valid element WAS created


def test_summarize_errors_false(api, make_contact):
    contact = make_contact()["ContactID"]
    batch = {"Invoices": [invoice(contact, line("10")), invoice(contact, line("10", code="999"))]}
    response = api.put(f"{API}/Invoices", params={"summarizeErrors": "false"}, json=batch)
    assert response.status_code == 200
    ok, failed = response.json()["Invoices"]
    assert ok["StatusAttributeString"] == "OK"
    assert failed["StatusAttributeString"] == "ERROR"
    assert failed["ValidationErrors"][0]["Message"].startswith("Account code '999'")


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        ("DRAFT", "DELETED", True),
        ("SUBMITTED", "DELETED", True),
        ("DRAFT", "AUTHORISED", True),
        ("SUBMITTED", "DRAFT", True),
        ("AUTHORISED", "VOIDED", True),
        ("AUTHORISED", "DELETED", False),
        ("AUTHORISED", "DRAFT", False),
        ("DRAFT", "VOIDED", False),
        ("DRAFT", "PAID", False),
    ],
)
def test_status_transitions(api, make_invoice, start, target, allowed):
    created = make_invoice(status=start)
    response = api.post(f"{API}/Invoices/{created['InvoiceID']}", json={"Status": target})
    assert (response.status_code == 200) is allowed, response.text
    status = api.get(f"{API}/Invoices/{created['InvoiceID']}").json()["Invoices"][0]["Status"]
    assert status == (target if allowed else start)


def test_cannot_void_with_payments(emu, api, make_invoice):
    created = make_invoice()
    emu.record_payment(created["InvoiceID"], D("10.00"))
    response = api.post(f"{API}/Invoices/{created['InvoiceID']}", json={"Status": "VOIDED"})
    assert response.status_code == 400
    assert "payment" in messages(response.json())[0]


def test_a_voided_invoice_owes_nothing(emu, api, make_invoice):
    created = make_invoice(amount="40.00")
    assert D(str(created["AmountDue"])) == D("46.00")
    response = api.post(f"{API}/Invoices/{created['InvoiceID']}", json={"Status": "VOIDED"})
    assert response.status_code == 200, response.text
    for body in (
        decimal_json(response)["Invoices"][0],
        decimal_json(api.get(f"{API}/Invoices/{created['InvoiceID']}"))["Invoices"][0],
        next(i for i in emu.books().invoices if i["InvoiceID"] == created["InvoiceID"]),
    ):
        assert body["Status"] == "VOIDED"
        assert (body["Total"], body["AmountPaid"], body["AmountDue"]) == (
            D("46.00"),
            D("0.00"),
            D("0.00"),
        )
    owing = api.get(f"{API}/Invoices", params={"where": "AmountDue>0"}).json()["Invoices"]
    assert created["InvoiceID"] not in {i["InvoiceID"] for i in owing}


def test_the_spec_example_of_a_voided_invoice_owes_nothing(openapi):
    """The source of the rule above: the only VOIDED invoice among the spec's examples."""
    spec = openapi("xero_accounting.yaml")
    example = spec["paths"]["/Invoices"]["get"]["responses"]["200"]["content"]["application/json"][
        "example"
    ]
    [voided] = [i for i in example["Invoices"] if i["Status"] == "VOIDED"]
    assert (voided["Total"], voided["AmountPaid"], voided["AmountDue"]) == (40, 0, 0)


def test_update_by_number_and_omitted_lines_are_deleted(api, make_contact):
    contact = make_contact()["ContactID"]
    created = api.put(f"{API}/Invoices", json=invoice(contact, line("10"), line("20"))).json()[
        "Invoices"
    ][0]
    keep = created["LineItems"][1]
    response = api.post(
        f"{API}/Invoices/{created['InvoiceNumber']}",
        json={"LineItems": [{"LineItemID": keep["LineItemID"], "Quantity": 2}]},
    )
    updated = decimal_json(response)["Invoices"][0]
    assert [li["LineItemID"] for li in updated["LineItems"]] == [keep["LineItemID"]]
    assert updated["SubTotal"] == D("40.00")


def test_get_filters_and_line_items_only_when_paged(api, make_contact, make_invoice):
    a = make_contact()["ContactID"]
    first = make_invoice(contact_id=a, status="DRAFT")
    second = make_invoice(status="AUTHORISED")
    listed = api.get(f"{API}/Invoices").json()["Invoices"]
    assert [i["InvoiceID"] for i in listed] == [first["InvoiceID"], second["InvoiceID"]]
    assert all("LineItems" not in i for i in listed)
    paged = api.get(f"{API}/Invoices", params={"page": 1}).json()
    assert all(i["LineItems"] for i in paged["Invoices"])
    assert paged["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 1, "itemCount": 2}
    by_status = api.get(f"{API}/Invoices", params={"Statuses": "AUTHORISED,PAID"}).json()
    assert [i["InvoiceID"] for i in by_status["Invoices"]] == [second["InvoiceID"]]
    assert "pagination" in by_status  # Statuses forces paging
    by_ids = api.get(f"{API}/Invoices", params={"IDs": first["InvoiceID"]}).json()["Invoices"]
    assert [i["InvoiceID"] for i in by_ids] == [first["InvoiceID"]]
    by_numbers = api.get(
        f"{API}/Invoices", params={"InvoiceNumbers": second["InvoiceNumber"]}
    ).json()
    assert [i["InvoiceID"] for i in by_numbers["Invoices"]] == [second["InvoiceID"]]
    by_contact = api.get(f"{API}/Invoices", params={"ContactIDs": a}).json()["Invoices"]
    assert [i["InvoiceID"] for i in by_contact] == [first["InvoiceID"]]
    by_number_path = api.get(f"{API}/Invoices/{second['InvoiceNumber']}").json()["Invoices"][0]
    assert by_number_path["InvoiceID"] == second["InvoiceID"]


def test_page_size_is_clamped_and_ordered_by_update(emu, api, make_invoice):
    made = [make_invoice() for _ in range(3)]
    emu.clock.advance(5)
    api.post(f"{API}/Invoices/{made[0]['InvoiceID']}", json={"Reference": "touched"})
    order = [i["InvoiceID"] for i in api.get(f"{API}/Invoices").json()["Invoices"]]
    assert order[-1] == made[0]["InvoiceID"]
    page = api.get(f"{API}/Invoices", params={"page": 1, "pageSize": 5000}).json()
    assert page["pagination"]["pageSize"] == 1000


def test_if_modified_since_invoices(emu, api, make_invoice):
    make_invoice()
    emu.clock.advance(10)
    cutoff = emu.clock.now()
    emu.clock.advance(10)
    newer = make_invoice()
    header = {"If-Modified-Since": cutoff.isoformat()}
    found = api.get(f"{API}/Invoices", headers=header).json()["Invoices"]
    assert [i["InvoiceID"] for i in found] == [newer["InvoiceID"]]


def test_online_invoice(api, make_invoice):
    draft = make_invoice(status="DRAFT")
    assert api.get(f"{API}/Invoices/{draft['InvoiceID']}/OnlineInvoice").status_code == 400
    approved = make_invoice()
    response = api.get(f"{API}/Invoices/{approved['InvoiceID']}/OnlineInvoice")
    url = response.json()["OnlineInvoices"][0]["OnlineInvoiceUrl"]
    assert url.startswith("https://in.xero.com/")
    again = api.get(f"{API}/Invoices/{approved['InvoiceID']}/OnlineInvoice").json()
    assert again["OnlineInvoices"][0]["OnlineInvoiceUrl"] == url


def test_email_rules(emu, api, make_invoice):
    draft = make_invoice(status="DRAFT")
    refused = api.post(f"{API}/Invoices/{draft['InvoiceID']}/Email", json={})
    assert refused.status_code == 400
    assert refused.json()["Type"] == "ValidationException"
    approved = make_invoice()
    sent = api.post(f"{API}/Invoices/{approved['InvoiceID']}/Email", json={})
    assert sent.status_code == 204
    assert sent.content == b""
    fetched = api.get(f"{API}/Invoices/{approved['InvoiceID']}").json()["Invoices"][0]
    assert fetched["SentToContact"] is True


def test_demo_company_cannot_email(emu, api, make_invoice):
    approved = make_invoice()
    emu.set_demo_company(True)
    response = api.post(f"{API}/Invoices/{approved['InvoiceID']}/Email", json={})
    assert response.status_code == 400


def test_daily_email_limit_resets_next_day():
    from ams_billing.contracts.xero_emulator import authorised_client
    from ams_billing.emulators.xero import EmulatorConfig, XeroEmulator

    emu = XeroEmulator(EmulatorConfig(email_daily_limit=2))
    with authorised_client(emu) as client:
        contact = client.put(f"{API}/Contacts", json={"Name": "A"}).json()["Contacts"][0][
            "ContactID"
        ]
        inv = client.put(
            f"{API}/Invoices", json=invoice(contact, line("1"), Status="AUTHORISED")
        ).json()["Invoices"][0]["InvoiceID"]
        statuses = [
            client.post(f"{API}/Invoices/{inv}/Email", json={}).status_code for _ in range(3)
        ]
        assert statuses == [204, 204, 400]
        emu.clock.advance(24 * 3600)
        client.headers["Authorization"] = f"Bearer {emu.issue_token()}"
        assert client.post(f"{API}/Invoices/{inv}/Email", json={}).status_code == 204


def test_accept_header_required(api):
    response = api.get(f"{API}/Invoices", headers={"Accept": "*/*"})
    assert response.status_code == 406


def test_unknown_routes(api):
    assert api.get(f"{API}/Quotes").status_code == 404
    assert api.delete(f"{API}/Invoices").status_code == 405
    assert api.get("/nowhere").text == "The resource you're looking for cannot be found"


def _raw_put(api, body: str):
    """PUT a hand-written JSON body (numbers json.dumps cannot write: 1e30, NaN...)."""
    return api.put(f"{API}/Invoices", content=body, headers={"Content-Type": "application/json"})


def _line_json(contact_id: str, **fields: str) -> str:
    parts = {
        "Description": '"Fee"',
        "Quantity": "1",
        "UnitAmount": "10",
        "AccountCode": '"200"',
        **fields,
    }
    line_text = ",".join(f'"{k}":{v}' for k, v in parts.items())
    return (
        f'{{"Type":"ACCREC","Contact":{{"ContactID":"{contact_id}"}},"Status":"AUTHORISED",'
        f'"LineItems":[{{{line_text}}}]}}'
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"Quantity": "1e30"}, "Quantity"),
        ({"Quantity": '"1e30"'}, "Quantity"),
        ({"UnitAmount": "1" * 30}, "UnitAmount"),
        ({"UnitAmount": '"' + "1" * 30 + '"'}, "UnitAmount"),
        ({"UnitAmount": "-1e30"}, "UnitAmount"),
        ({"TaxAmount": "1e30"}, "TaxAmount"),
        ({"DiscountRate": "1e30"}, "DiscountRate"),
        ({"Quantity": "null", "UnitAmount": "null", "LineAmount": "1e30"}, "LineAmount"),
        ({"Quantity": "1e-20", "UnitAmount": "null", "LineAmount": "10"}, "UnitAmount"),
        ({"Quantity": "9999999999", "UnitAmount": "9999999999"}, "LineAmount"),
        ({"UnitAmount": "9999999999.99", "DiscountRate": "-9999999999"}, "LineAmount"),
    ],
)
def test_huge_amounts_and_quantities_are_a_400(api, emu, make_contact, fields, field):
    """Xero answers a ValidationException; the emulator used to drop the connection."""
    body = _line_json(make_contact()["ContactID"], **fields)
    response = _raw_put(api, body)
    assert response.status_code == 400, response.text
    document = response.json()
    assert (document["ErrorNumber"], document["Type"]) == (10, "ValidationException")
    found = messages(document)
    assert any(m.startswith(field) and "9,999,999,999.99" in m for m in found), found
    assert emu.books().invoices == ()


def test_the_largest_line_amount_is_accepted(api, make_contact):
    body = _line_json(make_contact()["ContactID"], UnitAmount='"9999999999.99"', TaxType='"NONE"')
    response = _raw_put(api, body)
    assert response.status_code == 200, response.text
    assert decimal_json(response)["Invoices"][0]["LineItems"][0]["LineAmount"] == D("9999999999.99")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999999999", "1E-999999999"])
def test_numbers_that_are_not_json_or_out_of_any_range_are_a_400(api, emu, make_contact, number):
    body = _line_json(make_contact()["ContactID"], Quantity=number)
    response = _raw_put(api, body)
    assert response.status_code == 400, response.text
    assert response.json()["Type"] == "ValidationException"
    assert len(response.content) < 2_000
    assert emu.books().invoices == ()


@pytest.mark.parametrize("field", ["DiscountRate", "Quantity", "UnitAmount", "TaxAmount"])
def test_a_string_with_an_absurd_exponent_is_not_written_out_in_full(api, make_contact, field):
    """``"1e-999999999"`` kept as given made a gigabyte response (DiscountRate is echoed)."""
    body = _line_json(make_contact()["ContactID"], **{field: '"1e-999999999"'})
    response = _raw_put(api, body)
    assert response.status_code == 400, len(response.content)
    assert len(response.content) < 2_000
    assert any(m.startswith(field) for m in messages(response.json()))
