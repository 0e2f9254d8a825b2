"""The exact requests the provider sends for each operation: headers, query and body."""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import parse_qsl

import attrs
import pytest
from xero_rig import Rig

from ams_billing import AmountType, InvoiceRequest, InvoiceStatus, LineItem
from ams_billing.providers.xero import invoices as xero_invoices
from ams_billing.providers.xero.ledger import with_body_digest, xero_key

TENANT = "e1e1e1e1-0000-4000-8000-00000000e4e0"


def test_the_token_request_uses_basic_auth_and_no_scope(rig: Rig, member) -> None:
    rig.service.create_contact(member, idempotency_key="contact:1")
    token = [r for r in rig.transport.requests if r.path == "/connect/token"]
    assert len(token) == 1
    assert dict(parse_qsl(token[0].body.decode())) == {"grant_type": "client_credentials"}
    assert token[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert token[0].headers["authorization"] == "<redacted>"
    assert "xero-tenant-id" not in token[0].headers


def test_the_token_request_sends_the_scopes_asked_for(make_rig, member) -> None:
    rig = make_rig(scopes="accounting.contacts accounting.transactions")
    rig.service.create_contact(member, idempotency_key="contact:1")
    token = next(r for r in rig.transport.requests if r.path == "/connect/token")
    assert dict(parse_qsl(token.body.decode()))["scope"] == (
        "accounting.contacts accounting.transactions"
    )


def test_basic_auth_carries_the_client_credentials() -> None:
    from ams_billing.emulators.xero import XeroEmulator
    from ams_billing.emulators.xero.harness import emulator_settings
    from ams_billing.providers.xero.auth import basic_auth

    emulator = XeroEmulator()
    header = basic_auth(emulator_settings(emulator, "http://x.invalid"))
    assert "Basic" not in repr(header)  # a Secret until the request leaves
    decoded = base64.b64decode(header.reveal().removeprefix("Basic ")).decode()
    assert decoded == f"{emulator.config.client_id}:{emulator.config.client_secret}"


def test_every_api_request_asks_for_json_and_names_the_tenant(rig: Rig, membership) -> None:
    rig.service.create_invoice(membership, idempotency_key="invoice:1")
    for request in rig.api():
        assert request.headers["accept"] == "application/json"
        assert request.headers["xero-tenant-id"] == TENANT
        assert request.headers["authorization"] == "<redacted>"
        assert request.headers["user-agent"].startswith("ams-billing/")


def test_the_tenant_header_is_left_out_when_no_tenant_is_set(make_rig, membership) -> None:
    rig = make_rig(tenant_id=None)
    rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert all("xero-tenant-id" not in request.headers for request in rig.api())


def test_create_contact_posts_the_contact_keyed_on_its_reference(rig: Rig, member) -> None:
    rig.service.create_contact(member, idempotency_key="contact:acct-42:v1")
    (request,) = rig.api()
    assert (request.method, request.path) == ("POST", "/api.xro/2.0/Contacts")
    assert request.query == {"summarizeErrors": "false"}
    assert request.headers["content-type"] == "application/json"
    key = request.headers["idempotency-key"]
    assert key == with_body_digest(xero_key("contact", "contact:acct-42:v1"), request.body)
    assert len(request.headers["idempotency-key"]) <= 128
    assert "acct-42" not in request.headers["idempotency-key"]
    assert request.json() == {
        "Contacts": [
            {
                "ContactNumber": "acct-42",
                "AccountNumber": "acct-42",
                "Name": "Ada Lovelace",
                "FirstName": "Ada",
                "LastName": "Lovelace",
                "EmailAddress": "ada@example.org",
            }
        ]
    }


def test_create_invoice_puts_an_authorised_sales_invoice(rig: Rig, membership) -> None:
    rig.service.create_invoice(membership, idempotency_key="invoice:membership-7")
    contact_post, invoice_put = rig.api()
    assert contact_post.path.endswith("/Contacts")
    contact_id = rig.emulator.books().contacts[0]["ContactID"]
    assert (invoice_put.method, invoice_put.path) == ("PUT", "/api.xro/2.0/Invoices")
    assert invoice_put.query == {"summarizeErrors": "false"}
    assert invoice_put.headers["idempotency-key"] == with_body_digest(
        xero_key("invoice", "invoice:membership-7"), invoice_put.body
    )
    assert invoice_put.json() == {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Contact": {"ContactID": contact_id},
                "Date": "2026-07-01",
                "DueDate": "2026-07-31",
                "Status": "AUTHORISED",
                "LineAmountTypes": "Exclusive",
                "LineItems": [
                    {
                        "Description": "Annual membership",
                        "Quantity": Decimal("1"),
                        "UnitAmount": Decimal("120.00"),
                        "AccountCode": "200",
                    }
                ],
                "CurrencyCode": "NZD",
                "Reference": "MEMBERSHIP-7",
            }
        ]
    }


def test_amounts_travel_as_exact_json_numbers(rig: Rig, membership) -> None:
    request = attrs.evolve(
        membership,
        line_items=[
            LineItem("Exact", Decimal("3"), Decimal("10.10")),
            LineItem("Tiny", Decimal("0.5"), Decimal("0.1000")),
        ],
    )
    rig.service.create_invoice(request, idempotency_key="invoice:exact")
    body = rig.api("PUT")[0].body.decode()
    assert '"Quantity":3,"UnitAmount":10.10' in body
    assert '"Quantity":0.5,"UnitAmount":0.1000' in body
    numbers = re.findall(r'"(?:Quantity|UnitAmount)":([^,}]+)', body)
    assert numbers == ["3", "10.10", "0.5", "0.1000"]


def test_unitdp_4_is_asked_for_only_when_a_unit_amount_needs_it(rig: Rig, membership) -> None:
    rig.service.create_invoice(membership, idempotency_key="invoice:two-places")
    four = attrs.evolve(
        membership,
        line_items=[LineItem("Per-minute rate", Decimal("60"), Decimal("0.0125"))],
        reference="PER-MINUTE",
    )
    invoice = rig.service.create_invoice(four, idempotency_key="invoice:four-places")
    first, second = rig.api("PUT")
    assert "unitdp" not in first.query
    assert second.query == {"summarizeErrors": "false", "unitdp": "4"}
    assert invoice.line_items[0].unit_amount == Decimal("0.0125")
    assert invoice.subtotal == Decimal("0.75")


def test_amount_types_map_to_line_amount_types(rig: Rig, membership) -> None:
    expected = {
        AmountType.INCLUSIVE: "Inclusive",
        AmountType.EXCLUSIVE: "Exclusive",
        AmountType.NO_TAX: "NoTax",
    }
    for index, (amount_type, wire_name) in enumerate(expected.items()):
        request = attrs.evolve(membership, amount_type=amount_type, reference=f"R{index}")
        invoice = rig.service.create_invoice(request, idempotency_key=f"invoice:{index}")
        assert rig.api("PUT")[-1].json()["Invoices"][0]["LineAmountTypes"] == wire_name
        assert invoice.amount_type is amount_type
    totals = {
        i["LineAmountTypes"]: (i["SubTotal"], i["TotalTax"], i["Total"])
        for i in rig.emulator.books().invoices
    }
    assert totals == {
        "Inclusive": (Decimal("104.35"), Decimal("15.65"), Decimal("120.00")),
        "Exclusive": (Decimal("120.00"), Decimal("18.00"), Decimal("138.00")),
        "NoTax": (Decimal("120.00"), Decimal("0.00"), Decimal("120.00")),
    }


def test_the_default_amount_type_comes_from_the_settings_helper(make_rig, member) -> None:
    rig = make_rig(amount_type="INCLUSIVE")
    request = rig.provider.invoice_request(
        member,
        [LineItem("Annual membership", Decimal(1), Decimal("115.00"))],
        issue_date=date(2026, 7, 1),
        due_date=date(2026, 7, 31),
    )
    assert (request.amount_type, request.currency, request.account_code) == (
        AmountType.INCLUSIVE,
        "NZD",
        "200",
    )


def test_a_lines_own_account_code_wins_over_the_default(rig: Rig, membership) -> None:
    request = attrs.evolve(
        membership,
        line_items=[
            LineItem("Membership", Decimal(1), Decimal("100")),
            LineItem("Donation", Decimal(1), Decimal("20"), account_code="260"),
        ],
    )
    rig.service.create_invoice(request, idempotency_key="invoice:codes")
    lines = rig.api("PUT")[0].json()["Invoices"][0]["LineItems"]
    assert [line["AccountCode"] for line in lines] == ["200", "260"]


def test_get_invoices_reads_by_ids_in_chunks_of_fifty_with_lines(rig: Rig, membership) -> None:
    created = [
        rig.service.create_invoice(
            attrs.evolve(membership, reference=f"R-{n}"), idempotency_key=f"invoice:{n}"
        )
        for n in range(3)
    ]
    rig.transport.clear()
    ids = [invoice.provider_id for invoice in created]
    unknown = [f"00000000-0000-4000-8000-{n:012d}" for n in range(117)]
    found = rig.service.get_invoices(ids + unknown + ids + ["not-a-uuid"])
    assert sorted(i.provider_id for i in found) == sorted(ids)
    assert all(invoice.line_items for invoice in found)
    reads = rig.api("GET")
    assert [len(r.query["IDs"].split(",")) for r in reads] == [50, 50, 20]
    assert all(r.query["page"] == "1" and r.query["unitdp"] == "4" for r in reads)
    assert all(len(str(r.path)) + len(r.query["IDs"]) < 2000 for r in reads)


def test_changed_since_sends_if_modified_since_and_pages(
    rig: Rig, membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xero_invoices, "PAGE_SIZE", 100)  # 1,000 in production
    rig.emulator.clock.advance(3600)
    for n in range(105):
        rig.emulator.clock.advance(1)
        rig.service.create_invoice(
            attrs.evolve(membership, reference=f"R-{n}"), idempotency_key=f"invoice:{n}"
        )
    rig.transport.clear()
    since = datetime(2026, 1, 15, 10, 0, 3, 500_000, tzinfo=UTC)
    changed = rig.service.get_invoices_changed_since(since)
    assert all(invoice.updated_at >= since for invoice in changed)
    assert len(changed) == 105 - 3
    assert [i.updated_at for i in changed] == sorted(i.updated_at for i in changed)
    reads = rig.api("GET")
    assert [r.query["page"] for r in reads] == ["1", "2"]
    assert all(r.headers["if-modified-since"] == "2026-01-15T10:00:03" for r in reads)
    assert all(r.query["where"] == 'Type=="ACCREC"' and r.query["pageSize"] == "100" for r in reads)


def test_paging_stops_at_the_page_count_without_reading_an_empty_page(
    rig: Rig, membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xero_invoices, "PAGE_SIZE", 5)
    for n in range(10):
        rig.service.create_invoice(
            attrs.evolve(membership, reference=f"R-{n}"), idempotency_key=f"invoice:{n}"
        )
    rig.transport.clear()
    changed = rig.service.get_invoices_changed_since(datetime(2000, 1, 1, tzinfo=UTC))
    assert len(changed) == 10
    assert [r.query["page"] for r in rig.api("GET")] == ["1", "2"]


def test_online_url_void_and_email_requests(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    other = rig.service.create_invoice(
        attrs.evolve(membership, reference="OTHER"), idempotency_key="invoice:2"
    )
    rig.transport.clear()
    url = rig.service.get_invoice_url(invoice.provider_id)
    rig.service.send_invoice(other, idempotency_key="email:1")
    voided = rig.service.void_invoice(invoice.provider_id)
    online, email, read, void = rig.api()
    assert url.startswith("https://in.xero.com/")
    assert (online.method, online.path) == (
        "GET",
        f"/api.xro/2.0/Invoices/{invoice.provider_id}/OnlineInvoice",
    )
    assert (email.method, email.path, email.json()) == (
        "POST",
        f"/api.xro/2.0/Invoices/{other.provider_id}/Email",
        {},
    )
    assert email.headers["idempotency-key"] == with_body_digest(xero_key("email", "email:1"), b"{}")
    assert (read.method, read.query) == ("GET", {"unitdp": "4"})
    assert (void.method, void.path) == ("POST", f"/api.xro/2.0/Invoices/{invoice.provider_id}")
    assert void.query == {"summarizeErrors": "false", "unitdp": "4"}
    assert void.json() == {"Invoices": [{"InvoiceID": invoice.provider_id, "Status": "VOIDED"}]}
    assert "idempotency-key" in void.headers
    assert (voided.status, voided.provider_status) == (InvoiceStatus.VOID, "VOIDED")


def test_a_request_for_the_default_invoice(rig: Rig, membership: InvoiceRequest) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert (invoice.subtotal, invoice.total_tax, invoice.total) == (
        Decimal("120.00"),
        Decimal("18.00"),
        Decimal("138.00"),
    )
    assert invoice.contact.account_reference == "acct-42"
    assert invoice.contact.email == "ada@example.org"
    assert invoice.number == "INV-0001"
    assert (invoice.status, invoice.provider_status) == (InvoiceStatus.OPEN, "AUTHORISED")
