"""Fields the emulator keeps without interpreting them are checked against the spec's shapes.

A value of the wrong type, an over-long string or a value outside an enum is a 400 naming the
field; unknown keys are dropped; what is stored (and what a 400 echoes) always fits Xero's spec.
"""

from __future__ import annotations

from typing import Any

import pytest
from emulator_helpers import API, messages

jsonschema = pytest.importorskip("jsonschema")


def spec_check(spec: dict[str, Any], name: str, instance: Any) -> None:
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(instance)


@pytest.fixture
def accounting(openapi) -> dict[str, Any]:
    return openapi("xero_accounting.yaml")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"Addresses": "not-a-list"}, "Addresses must be an array"),
        ({"Addresses": ["x"]}, "Addresses[0] must be an object"),
        ({"Addresses": [{"City": "c" * 256}]}, "Addresses[0].City must not be more than 255"),
        ({"Addresses": [{"AddressType": "HOME"}]}, "Addresses[0].AddressType must be one of"),
        ({"Phones": [{"PhoneNumber": 12345}]}, "Phones[0].PhoneNumber must be a string"),
        ({"SalesTrackingCategories": {}}, "SalesTrackingCategories must be an array"),
        ({"CompanyNumber": "n" * 51}, "CompanyNumber must not be more than 50"),
        ({"DefaultCurrency": "XXX"}, "DefaultCurrency 'XXX' is not a valid value"),
        ({"PaymentTerms": {"Sales": {"Day": "ten"}}}, "PaymentTerms.Sales.Day must be a whole"),
        ({"BatchPayments": {"Code": "c" * 13}}, "BatchPayments.Code must not be more than 12"),
        ({"ContactPersons": [{"IncludeInEmails": "yes"}]}, "IncludeInEmails must be true or"),
    ],
)
def test_a_contact_field_of_the_wrong_shape_is_a_400_naming_it(api, fields, expected):
    response = api.put(f"{API}/Contacts", json={"Name": "Ada", **fields})
    assert response.status_code == 400, response.text
    assert any(expected in m for m in messages(response.json())), response.text
    assert api.get(f"{API}/Contacts").json()["Contacts"] == []


def test_not_a_list_is_refused_and_the_contacts_stay_valid(api, accounting, make_contact):
    make_contact()
    assert api.put(f"{API}/Contacts", json={"Name": "B", "Addresses": "not-a-list"}).status_code
    listed = api.get(f"{API}/Contacts")
    assert listed.status_code == 200
    spec_check(accounting, "Contacts", listed.json())


def test_passthrough_fields_round_trip_in_the_specs_shape(api, accounting):
    fields = {
        "Addresses": [
            {"AddressType": "street", "City": "Wellington", "Colour": "red"},
            {"AddressType": "POBOX", "AddressLine1": "PO Box 1", "PostalCode": "6011"},
        ],
        "Phones": [{"PhoneType": "mobile", "PhoneNumber": "021 555"}],
        "ContactPersons": [{"FirstName": "Ada", "IncludeInEmails": True}],
        "SalesTrackingCategories": [{"TrackingCategoryName": "Region", "TrackingOptionName": "N"}],
        "PaymentTerms": {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}},
        "BatchPayments": {"Code": "ABC", "Reference": "R"},
        "DefaultCurrency": "nzd",
        "CompanyNumber": "C-1",
    }
    created = api.put(f"{API}/Contacts", json={"Name": "Ada", **fields})
    assert created.status_code == 200, created.text
    contact = created.json()["Contacts"][0]
    assert contact["Addresses"] == [
        {"AddressType": "STREET", "City": "Wellington"},  # unknown key dropped, case fixed
        {"AddressType": "POBOX", "AddressLine1": "PO Box 1", "PostalCode": "6011"},
    ]
    assert contact["Phones"] == [{"PhoneType": "MOBILE", "PhoneNumber": "021 555"}]
    assert contact["DefaultCurrency"] == "NZD"
    assert contact["PaymentTerms"] == {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}}
    fetched = api.get(f"{API}/Contacts/{contact['ContactID']}")
    spec_check(accounting, "Contacts", fetched.json())
    # null means "not given": what is stored stays.
    updated = api.post(f"{API}/Contacts/{contact['ContactID']}", json={"Addresses": None})
    assert updated.json()["Contacts"][0]["Addresses"] == contact["Addresses"]


def _invoice(contact_id: str, **fields: Any) -> dict[str, Any]:
    line = {"Description": "Fee", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"}
    return {"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "LineItems": [line], **fields}


@pytest.mark.parametrize(
    ("fields", "line", "expected"),
    [
        ({"InvoiceAddresses": "x"}, {}, "InvoiceAddresses must be an array"),
        ({"InvoiceAddresses": [{"InvoiceAddressType": "ON"}]}, {}, "InvoiceAddressType must be"),
        ({"BrandingThemeID": "not-a-guid"}, {}, "BrandingThemeID 'not-a-guid' is not a valid GUID"),
        ({"BrandingThemeID": 7}, {}, "BrandingThemeID must be a string"),
        ({"ExpectedPaymentDate": "soon"}, {}, "ExpectedPaymentDate 'soon' is not a valid date"),
        ({}, {"Tracking": "x"}, "LineItems[0].Tracking must be an array"),
        ({}, {"Tracking": [{"Name": "n" * 101}]}, "LineItems[0].Tracking[0].Name must not be"),
        ({}, {"ItemCode": ["A"]}, "LineItems[0].ItemCode must be a string"),
        ({}, {"LineItemID": {}}, "LineItems[0].LineItemID must be a string"),
    ],
)
def test_an_invoice_field_of_the_wrong_shape_is_a_400_naming_it(
    api, make_contact, fields, line, expected
):
    body = _invoice(make_contact()["ContactID"], **fields)
    body["LineItems"][0].update(line)
    response = api.put(f"{API}/Invoices", json=body)
    assert response.status_code == 400, response.text
    assert any(expected in m for m in messages(response.json())), response.text


def test_invoice_passthrough_fields_are_stored_in_the_specs_shape(api, accounting, make_contact):
    body = _invoice(
        make_contact()["ContactID"],
        InvoiceAddresses=[{"InvoiceAddressType": "to", "City": "Nelson", "Floor": 3}],
        BrandingThemeID="5d4dd402-c851-497e-aae1-9ff265c0d15a",
        ExpectedPaymentDate="2026-02-01",
    )
    body["LineItems"][0]["Tracking"] = [{"Name": "Region", "Option": "North", "Extra": 1}]
    created = api.put(f"{API}/Invoices", json=body)
    assert created.status_code == 200, created.text
    invoice = created.json()["Invoices"][0]
    assert invoice["InvoiceAddresses"] == [{"InvoiceAddressType": "TO", "City": "Nelson"}]
    assert invoice["LineItems"][0]["Tracking"] == [{"Name": "Region", "Option": "North"}]
    spec_check(accounting, "Invoices", api.get(f"{API}/Invoices/{invoice['InvoiceID']}").json())


# ------------------------------------------------------------------ what errors echo


@pytest.mark.parametrize("odd", [{}, [], 7, "not-a-guid", None])
def test_a_400_echoes_only_what_fits_the_element_schema(api, accounting, make_contact, odd):
    make_contact(Name="Ada")
    response = api.put(f"{API}/Contacts", json={"ContactID": odd, "Name": "Ada", "Phones": "x"})
    assert response.status_code == 400, response.text
    body = response.json()
    spec_check(accounting, "Error", body)
    assert "ContactID" not in body["Elements"][0]
    assert body["Elements"][0]["Name"] == "Ada"


def test_an_unsummarised_error_element_fits_the_object_schema(api, accounting, make_contact):
    contact_id = make_contact()["ContactID"]
    invoice = _invoice(contact_id, InvoiceID={}, Status="active", Date=12)
    invoice["LineItems"][0]["Quantity"] = "lots"
    contact = {"Name": "N", "ContactStatus": "active", "Addresses": [{"City": 5}]}
    for path, key, body in (("Invoices", "Invoices", invoice), ("Contacts", "Contacts", contact)):
        response = api.put(f"{API}/{path}", params={"summarizeErrors": "false"}, json=body)
        assert response.status_code == 200, response.text
        [element] = response.json()[key]
        assert element["StatusAttributeString"] == "ERROR"
        spec_check(accounting, key, response.json())
    payment = {"Invoice": {"InvoiceID": []}, "Amount": "x", "Status": "PENDING", "Date": {}}
    response = api.put(f"{API}/Payments", params={"summarizeErrors": "false"}, json=payment)
    assert response.status_code == 200, response.text
    spec_check(accounting, "Payments", response.json())
