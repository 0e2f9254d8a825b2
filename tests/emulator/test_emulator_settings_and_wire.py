from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from emulator_helpers import API

from ams_billing.contracts.xero_emulator import authorised_client
from ams_billing.emulators.xero import EmulatorClock, EmulatorConfig, XeroEmulator, wire
from ams_billing.emulators.xero.query import QueryError, parse_where


def test_organisation_and_demo_flag(emu, api):
    org = api.get(f"{API}/Organisation").json()["Organisations"][0]
    assert (org["BaseCurrency"], org["CountryCode"], org["IsDemoCompany"]) == ("NZD", "NZ", False)
    emu.set_demo_company(True)
    assert api.get(f"{API}/Organisation").json()["Organisations"][0]["IsDemoCompany"] is True
    actions = {
        a["Name"]: a["Status"] for a in api.get(f"{API}/Organisation/Actions").json()["Actions"]
    }
    assert actions["CreateApprovedInvoice"] == "ALLOWED"
    assert actions["UseMulticurrency"] == "NOT-ALLOWED"


def test_accounts_where_code(api):
    [sales] = api.get(f"{API}/Accounts", params={"where": 'Code=="200"'}).json()["Accounts"]
    assert (sales["Name"], sales["Type"], sales["Class"], sales["Status"], sales["TaxType"]) == (
        "Sales",
        "REVENUE",
        "REVENUE",
        "ACTIVE",
        "OUTPUT2",
    )
    [archived] = api.get(f"{API}/Accounts", params={"where": 'Code=="205"'}).json()["Accounts"]
    assert archived["Status"] == "ARCHIVED"
    banks = api.get(f"{API}/Accounts", params={"where": 'Status=="ACTIVE" AND Type=="BANK"'}).json()
    assert [a["Code"] for a in banks["Accounts"]] == ["090"]


def test_currencies_and_tax_rates(api):
    assert api.get(f"{API}/Currencies").json()["Currencies"] == [
        {"Code": "NZD", "Description": "New Zealand Dollar"}
    ]
    rates = {
        r["TaxType"]: r["EffectiveRate"] for r in api.get(f"{API}/TaxRates").json()["TaxRates"]
    }
    assert rates["OUTPUT2"] == 15
    assert rates["NONE"] == 0


def test_extra_currency_is_usable():
    emu = XeroEmulator(EmulatorConfig(currencies=("NZD", "AUD")))
    with authorised_client(emu) as api:
        codes = [c["Code"] for c in api.get(f"{API}/Currencies").json()["Currencies"]]
        assert codes == ["NZD", "AUD"]
        contact = api.put(f"{API}/Contacts", json={"Name": "A"}).json()["Contacts"][0]["ContactID"]
        body = {
            "Type": "ACCREC",
            "CurrencyCode": "AUD",
            "Contact": {"ContactID": contact},
            "LineItems": [
                {"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "200"}
            ],
        }
        assert api.put(f"{API}/Invoices", json=body).json()["Invoices"][0]["CurrencyCode"] == "AUD"


def test_settings_are_read_only(api):
    assert api.put(f"{API}/Accounts", json={}).status_code == 405


def test_dumps_decimals_exactly():
    assert wire.dumps({"a": Decimal("0.10"), "b": [Decimal("-0.00"), 1, None, True]}) == (
        b'{"a":0.10,"b":[0.00,1,null,true]}'
    )
    assert wire.dumps(Decimal("12345678901234567890.12")) == b"12345678901234567890.12"


def test_dates():
    assert wire.ms_date(date(2019, 3, 11)) == "/Date(1552262400000+0000)/"
    assert wire.date_string(date(2009, 5, 27)) == "2009-05-27T00:00:00"
    assert wire.parse_xero_date("/Date(1552262400000+0000)/") == date(2019, 3, 11)
    assert wire.parse_xero_date("/Date(-62135596800000)/") == date(1, 1, 1)
    assert wire.parse_xero_date("2026-02-03T00:00:00") == date(2026, 2, 3)
    with pytest.raises(ValueError, match="not a date"):
        wire.parse_xero_date("03/02/2026")
    moment = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert wire.parse_http_datetime("Thu, 01 Jan 2026 12:00:00 GMT") == moment
    assert wire.parse_http_datetime("2026-01-01T04:00:00-08:00") == moment


def test_where_parser():
    record = {"Name": "Ada", "Contact": {"ContactID": "abc"}, "Total": Decimal("10.00")}
    assert parse_where('Name.Contains("d")')(record)
    assert parse_where('Contact.ContactID==guid("ABC")')(record)
    assert parse_where("Total>=10")(record)
    assert not parse_where('Name=="Bob" OR Total<5')(record)
    with pytest.raises(QueryError):
        parse_where("Name")


def test_clock():
    clock = EmulatorClock.virtual()
    start = clock.now()
    clock.advance(90)
    assert (clock.now() - start).total_seconds() == 90
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    fast = EmulatorClock.real(scale=1000)
    assert not fast.is_virtual
    first = fast.now()
    fast.advance(60)
    assert (fast.now() - first).total_seconds() >= 60


def test_reset_keeps_tokens_and_empties_books(emu, api, make_contact):
    make_contact()
    emu.reset()
    assert emu.books().contacts == ()
    assert emu.calls == []
    assert api.get(f"{API}/Contacts").status_code == 200


def test_numbers_with_absurd_exponents_are_refused_not_written_out():
    for text in ("1e-999999999", "1E+999999999"):
        with pytest.raises(ValueError, match="out of range"):
            wire.to_decimal(text)
        with pytest.raises(ValueError, match="out of range"):
            wire.loads(f'{{"Quantity":{text}}}'.encode())
    with pytest.raises(ValueError, match="NaN is not a JSON number"):
        wire.loads(b'{"Quantity":NaN}')
    assert wire.to_decimal("1e-20") == Decimal("1e-20")
    assert wire.in_range(Decimal("-9999999999.99"))
    assert not wire.in_range(Decimal("9999999999.991"))


@pytest.mark.parametrize("literal", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_where_refuses_numbers_that_cannot_be_ordered(literal):
    with pytest.raises(QueryError):
        parse_where(f"AmountDue>{literal}")


@pytest.mark.parametrize("seconds", [1e30, float("inf"), float("nan"), -1])
def test_the_clock_refuses_a_move_it_cannot_make_and_keeps_working(seconds):
    clock = EmulatorClock.virtual()
    before = clock.now()
    with pytest.raises(ValueError, match=r"finite|9999|backwards"):
        clock.advance(seconds)
    assert clock.now() == before
