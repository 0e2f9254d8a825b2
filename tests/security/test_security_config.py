"""Bad configuration and bad input are refused at once, named, before any call is made."""

from __future__ import annotations

import math
import traceback
from datetime import date
from decimal import Decimal

import attrs
import pytest

from ams_billing import (
    ConfigurationError,
    Contact,
    InvoiceRequest,
    LineItem,
    ValidationError,
    load_service,
)
from ams_billing.assembly.loading import ServiceSettings
from ams_billing.emulators.xero import EmulatorClock, EmulatorConfig, XeroEmulator
from ams_billing.emulators.xero.harness import EMULATOR_BASE_URL, emulator_settings
from ams_billing.providers.xero import XeroSettings

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
        environ=environ,
        stores="memory:",
        transport=emulator.transport(),
        clock=clock.elapsed,
        sleep=clock.sleep,
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


# -- numbers: finite and in range, or refused before any call -----------------------------

NUMERIC = ("XERO_TIMEOUT", "XERO_MAX_RETRY_WAIT", "AMS_BILLING_RATE_LIMIT_TIME_SCALE")
NUMERIC_FIELDS = {
    "timeout": "XERO_TIMEOUT",
    "max_retry_wait": "XERO_MAX_RETRY_WAIT",
    "rate_limit_time_scale": "AMS_BILLING_RATE_LIMIT_TIME_SCALE",
}
NOT_FINITE_OR_ABSURD = ["inf", "-inf", "Infinity", "nan", "NaN", "-1", "1e300", "-1e300"]


def test_every_numeric_setting_is_covered_here() -> None:
    # A new float setting must get a range (and a place in NUMERIC) before this passes.
    floats = {f.name for f in attrs.fields(XeroSettings) if f.type in ("float", float)}
    assert floats == set(NUMERIC_FIELDS)
    assert set(NUMERIC_FIELDS.values()) == set(NUMERIC)


@pytest.mark.parametrize("value", NOT_FINITE_OR_ABSURD)
@pytest.mark.parametrize("name", NUMERIC)
def test_non_finite_negative_or_huge_numbers_are_refused_before_any_call(
    name: str, value: str, emulator: XeroEmulator
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load({**GOOD, name: value}, emulator)
    assert [error.field for error in raised.value.errors] == [name]
    assert "must be" in str(raised.value)
    assert emulator.calls == []


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, -1.0, 1e300])
@pytest.mark.parametrize("field", sorted(NUMERIC_FIELDS))
def test_non_finite_numbers_are_refused_when_settings_are_built_in_python(
    field: str, value: float
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        emulator_settings(XeroEmulator(EmulatorConfig()), EMULATOR_BASE_URL, **{field: value})
    assert [error.field for error in raised.value.errors] == [NUMERIC_FIELDS[field]]


def test_a_blank_tenant_id_is_reported_not_taken_as_empty(emulator: XeroEmulator) -> None:
    load({**GOOD, "XERO_TENANT_ID": ""}, emulator)  # empty: unset, which is allowed
    for blank in (" ", "\t", "   "):
        with pytest.raises(ConfigurationError) as raised:
            load({**GOOD, "XERO_TENANT_ID": blank}, emulator)
        (error,) = raised.value.errors
        assert error.field == "XERO_TENANT_ID"
        assert "blank" in error.message
        assert "UUID" in (error.fix or "")
    assert emulator.calls == []


# -- a secret pasted into the wrong variable is never repeated ----------------------------

URL_SAFE_SECRET = "q7Hk2mZ9xw-Lr4Tn8Vb_Pc1Ys6Jd3Fg0Ua5Ee2Wi9Oo7Kl4Mn"  # a client secret's shape
BASE64_SECRET = (
    "+Zk9Q2w/Lr4Tn8Vb1Pc1Ys6Jd3Fg0Ua5Ee2Wi9Oo7Kl4MnXq7Hk2mZ9xwLr4Tn8Vb1Pc1Ys6Jd3Fg0Ua5E=="
)
VARIABLES = sorted(
    {*GOOD, *BROKEN, *NUMERIC, "XERO_SCOPES", "AMS_BILLING_RATE_LIMIT_REDIS_URL",
     "AMS_BILLING_FAKE_WEBHOOK_KEY"}
)  # fmt: skip


def assert_not_shown(secret: str, error: BaseException) -> None:
    for text in (str(error), repr(error), "".join(traceback.format_exception(error))):
        assert secret not in text
        assert secret.strip("+=/") not in text


@pytest.mark.parametrize("secret", [URL_SAFE_SECRET, BASE64_SECRET], ids=["urlsafe", "base64"])
@pytest.mark.parametrize("name", VARIABLES)
def test_a_secret_in_any_variable_is_not_repeated_by_the_error(
    name: str, secret: str, emulator: XeroEmulator
) -> None:
    environ = {**GOOD, name: secret}
    for build in (
        lambda: load(environ, emulator),
        lambda: load({**environ, "AMS_BILLING_SERVICE_CLASS": "xero"}, emulator),
        lambda: XeroSettings.from_env(environ),
        lambda: ServiceSettings.from_env(environ),
    ):
        try:
            build()
        except ConfigurationError as error:
            assert_not_shown(secret, error)


@pytest.mark.parametrize(
    "field",
    ["tenant_id", "account_code", "currency_code", "amount_type", "api_url", "identity_url",
     "email_whitelist", "rate_limit_redis_url"],
)  # fmt: skip
def test_a_secret_in_any_python_setting_is_not_repeated_by_the_error(field: str) -> None:
    refused = 0
    for secret in (URL_SAFE_SECRET, BASE64_SECRET, "(" + URL_SAFE_SECRET):
        try:
            emulator_settings(XeroEmulator(EmulatorConfig()), EMULATOR_BASE_URL, **{field: secret})
        except ConfigurationError as error:
            refused += 1
            assert_not_shown(secret, error)
    assert refused  # each field refuses at least one of them


def test_the_error_still_says_what_is_wrong_with_the_value(emulator: XeroEmulator) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load({**GOOD, "XERO_TENANT_ID": URL_SAFE_SECRET}, emulator)
    assert f"{len(URL_SAFE_SECRET)} characters, not a UUID" in str(raised.value)
