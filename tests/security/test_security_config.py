"""Bad configuration and bad input are refused at once, named, before any call is made."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ams_billing import (
    ConfigurationError,
    Contact,
    InvoiceRequest,
    LineItem,
    ValidationError,
    load_service,
)
from ams_billing.providers.xero.emulator import EmulatorClock, EmulatorConfig, XeroEmulator
from ams_billing.providers.xero.testing import EMULATOR_BASE_URL

GOOD = {
    "AMS_BILLING_SERVICE_CLASS": "ams.billing.providers.xero.XeroBillingService",
    "XERO_CLIENT_ID": EmulatorConfig().client_id,
    "XERO_CLIENT_SECRET": EmulatorConfig().client_secret,
    "XERO_WEBHOOK_KEY": EmulatorConfig().webhook_key,
    "XERO_TENANT_ID": EmulatorConfig().tenant_id,
    "XERO_ACCOUNT_CODE": "200",
    "XERO_AMOUNT_TYPE": "INCLUSIVE",
    "XERO_CURRENCY_CODE": "NZD",
    "XERO_API_URL": EMULATOR_BASE_URL,
    "XERO_IDENTITY_URL": EMULATOR_BASE_URL,
}

BROKEN = {
    "XERO_CLIENT_ID": ["", "   "],
    "XERO_CLIENT_SECRET": ["", " "],
    "XERO_WEBHOOK_KEY": [""],
    "XERO_ACCOUNT_CODE": ["", "12345678901"],
    "XERO_AMOUNT_TYPE": ["", "GROSS", "inclusive-ish"],
    "XERO_CURRENCY_CODE": ["", "NZ", "nzd1", "DOLLARS"],
    "XERO_TENANT_ID": ["not-a-uuid"],
    "XERO_EMAIL_INVOICES": ["maybe", "2"],
    "XERO_TIMEOUT": ["soon", "-1", "0"],
    "XERO_MAX_RETRY_WAIT": ["forever", "-5"],
    "XERO_API_URL": ["not a url", "ftp://api.xero.com"],
    "XERO_IDENTITY_URL": ["identity.xero.com"],
    "AMS_BILLING_EMAIL_WHITELIST_REGEX": ["(unclosed"],
    "AMS_BILLING_EMAIL_INVOICES": ["perhaps"],
}


@pytest.fixture
def emulator() -> XeroEmulator:
    return XeroEmulator(EmulatorConfig(), clock=EmulatorClock.virtual())


def load(environ: dict[str, str], emulator: XeroEmulator):  # type: ignore[no-untyped-def]
    clock = emulator.clock
    return load_service(
        environ=environ, transport=emulator.transport(), clock=clock.elapsed, sleep=clock.sleep
    )


def test_the_good_environment_works(emulator: XeroEmulator) -> None:
    service = load(GOOD, emulator)
    assert service.capabilities


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, values in BROKEN.items() for value in values]
)
def test_each_bad_variable_is_named_before_any_call(
    name: str, value: str, emulator: XeroEmulator
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load({**GOOD, name: value}, emulator)
    assert name in str(raised.value)
    assert emulator.calls == []


def test_a_missing_variable_is_named(emulator: XeroEmulator) -> None:
    for name in ("XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "XERO_WEBHOOK_KEY", "XERO_ACCOUNT_CODE",
                 "XERO_AMOUNT_TYPE", "XERO_CURRENCY_CODE"):  # fmt: skip
        environ = {k: v for k, v in GOOD.items() if k != name}
        with pytest.raises(ConfigurationError) as raised:
            load(environ, emulator)
        assert name in {error.field for error in raised.value.errors}
    assert emulator.calls == []


def test_every_problem_is_reported_at_once(emulator: XeroEmulator) -> None:
    environ = {
        "AMS_BILLING_SERVICE_CLASS": "xero",
        "XERO_AMOUNT_TYPE": "GROSS",
        "XERO_CURRENCY_CODE": "nz",
        "XERO_TIMEOUT": "soon",
        "XERO_API_URL": EMULATOR_BASE_URL,
        "XERO_IDENTITY_URL": EMULATOR_BASE_URL,
    }
    with pytest.raises(ConfigurationError) as raised:
        load(environ, emulator)
    fields = {error.field for error in raised.value.errors}
    assert {"XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "XERO_WEBHOOK_KEY", "XERO_ACCOUNT_CODE",
            "XERO_AMOUNT_TYPE", "XERO_CURRENCY_CODE", "XERO_TIMEOUT"} <= fields  # fmt: skip
    assert emulator.calls == []


def line(**overrides: object) -> LineItem:
    values: dict[str, object] = {"description": "Membership", "quantity": Decimal(1),
                                 "unit_amount": Decimal("10.00")}  # fmt: skip
    values.update(overrides)
    return LineItem(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: line(quantity=Decimal(-1)), "quantity"),
        (lambda: line(quantity=Decimal("NaN")), "quantity"),
        (lambda: line(unit_amount=Decimal("NaN")), "unit_amount"),
        (lambda: line(unit_amount=Decimal("Infinity")), "unit_amount"),
        (lambda: line(unit_amount=Decimal("1.000001")), "unit_amount"),
        (lambda: line(description=""), "description"),
        (lambda: line(description="   "), "description"),
        (lambda: line(unit_amount=10.5), "unit_amount"),  # float money is refused
    ],
)
def test_invalid_lines_are_refused_naming_the_field(build, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as raised:
        build()
    assert any(field in name for name in raised.value.fields), raised.value


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"currency": "XYZ"}, "currency"),  # not an ISO 4217 currency
        ({"currency": "nzd"}, "currency"),
        ({"line_items": []}, "line_items"),
    ],
)  # fmt: skip
def test_invalid_invoices_are_refused_before_any_call(
    changes: dict[str, object], field: str, emulator: XeroEmulator
) -> None:
    service = load(GOOD, emulator)
    before = len(emulator.calls)
    values: dict[str, object] = {
        "contact": Contact("acct-1", "Ada", "ada@example.org"),
        "line_items": [line()],
        "currency": "NZD",
        "issue_date": date(2026, 7, 1),
        "due_date": date(2026, 7, 31),
    }
    with pytest.raises(ValidationError) as raised:
        service.create_invoice(InvoiceRequest(**{**values, **changes}), idempotency_key="k")  # type: ignore[arg-type]
    assert any(field in name for name in raised.value.fields), raised.value
    invoice_calls = [c for c in emulator.calls[before:] if "Invoices" in c.endpoint]
    assert invoice_calls == []
