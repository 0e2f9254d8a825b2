"""The Stripe provider's pure parts: form encoding, settings, signatures, errors, amounts."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from ams_billing.core.errors import (
    AuthenticationError,
    ConfigurationError,
    IdempotencyConflictError,
    InvalidStateError,
    NotFoundError,
    ProviderUnavailableError,
    RateLimitedError,
    ValidationError,
    WebhookVerificationError,
)
from ams_billing.core.models import InvoiceStatus
from ams_billing.core.secret import Secret
from ams_billing.providers.stripe import forms
from ams_billing.providers.stripe.errors import error_for_response
from ams_billing.providers.stripe.mapping import to_invoice
from ams_billing.providers.stripe.money import from_stripe_amount, to_stripe_amount
from ams_billing.providers.stripe.provider import StripeProvider
from ams_billing.providers.stripe.settings import StripeSettings
from ams_billing.providers.stripe.webhooks import signature_header, verify, verify_and_parse

KEY = "sk_test_" + "a1B2c3D4e5F6g7H8"
SECRET = "whsec_" + "0123456789abcdefABCDEF"
OTHER = "whsec_" + "fedcba9876543210FEDCBA"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BODY = json.dumps(
    {
        "id": "evt_1",
        "object": "event",
        "type": "invoice.paid",
        "created": int(NOW.timestamp()),
        "livemode": False,
        "data": {
            "object": {"id": "in_1", "object": "invoice", "currency": "usd", "status": "paid"}
        },
    }
).encode()


# -- form encoding -------------------------------------------------------------------------


def test_nested_params_are_bracketed_and_arrays_indexed() -> None:
    params = {
        "customer": "cus_1",
        "metadata": {"k": "v w"},
        "expand": ["customer"],
        "custom_fields": [{"name": "PO", "value": "1"}],
        "auto_advance": False,
        "quantity": 3,
        "unit_amount_decimal": Decimal("1234.56"),
        "skipped": None,
    }
    assert forms.encode(params) == (
        "customer=cus_1&metadata[k]=v%20w&expand[0]=customer&custom_fields[0][name]=PO"
        "&custom_fields[0][value]=1&auto_advance=false&quantity=3&unit_amount_decimal=1234.56"
    )


def test_decimals_never_use_exponent_notation_and_floats_are_refused() -> None:
    assert forms.encode({"a": Decimal("1E+4")}) == "a=10000"
    assert forms.encode({"email": ""}) == "email="  # an empty string unsets
    with pytest.raises(TypeError):
        forms.encode({"a": 1.5})


# -- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["sk_test_abcdefgh12", "sk_live_abcdefgh12", "rk_test_abcdefgh12", "rk_live_abcdefgh12"]
)
def test_secret_and_restricted_keys_are_accepted(key: str) -> None:
    settings = StripeSettings(secret_key=key)
    assert settings.mode == key[3:7]


@pytest.mark.parametrize("key", ["pk_test_abcdefgh12", "sk_abcdefgh12", "whsec_abcdefgh12", ""])
def test_other_keys_are_refused_naming_the_variable_without_the_value(key: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        StripeSettings.from_env({"STRIPE_SECRET_KEY": key})
    assert "STRIPE_SECRET_KEY" in str(caught.value)
    if key.strip():
        assert key.strip() not in str(caught.value)


def test_webhook_secrets_are_comma_separated_and_checked() -> None:
    settings = StripeSettings.from_env(
        {"STRIPE_SECRET_KEY": KEY, "STRIPE_WEBHOOK_SECRET": f"{SECRET}, {OTHER}"}
    )
    assert [s.reveal() for s in settings.webhook_secrets] == [SECRET, OTHER]
    with pytest.raises(ConfigurationError, match="STRIPE_WEBHOOK_SECRET"):
        StripeSettings.from_env({"STRIPE_SECRET_KEY": KEY, "STRIPE_WEBHOOK_SECRET": "sk_test_x"})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        StripeSettings.from_env(
            {
                "STRIPE_SECRET_KEY": "pk_test_abcdefgh12",
                "STRIPE_API_VERSION": "latest",
                "STRIPE_API_BASE": "ftp://x",
                "STRIPE_CURRENCY": "usd",
            }
        )
    fields = {error.field for error in caught.value.errors}
    assert fields == {
        "STRIPE_SECRET_KEY",
        "STRIPE_API_VERSION",
        "STRIPE_API_BASE",
        "STRIPE_CURRENCY",
    }


def test_secrets_stay_out_of_reprs_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    settings = StripeSettings(secret_key=KEY, webhook_secrets=(SECRET, OTHER))
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            401,
            json={
                "error": {
                    "type": "invalid_request_error",
                    "message": "Invalid API Key provided: sk_test_****",
                }
            },
        )

    provider = StripeProvider(settings, transport=httpx.MockTransport(answer), sleep=lambda s: None)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as caught:
        provider.get_invoice_url("in_1")
    assert seen[0].headers["Authorization"] == f"Bearer {KEY}"
    assert seen[0].headers["Stripe-Version"] == settings.api_version
    shown = " ".join(
        [repr(settings), repr(provider), str(caught.value), repr(caught.value), caplog.text]
    )
    for secret in (KEY, SECRET, OTHER):
        assert secret not in shown


# -- signatures ----------------------------------------------------------------------------


def _headers(body: bytes, secrets: list[str], at: datetime = NOW) -> dict[str, str]:
    return {"Stripe-Signature": signature_header(body, secrets, int(at.timestamp()))}


def test_a_valid_signature_verifies_and_the_event_names_the_invoice() -> None:
    delivery = verify_and_parse(
        BODY, _headers(BODY, [SECRET]), (Secret(SECRET),), now=NOW, livemode=False, account_id=None
    )
    assert delivery.invoice_ids == ("in_1",)


def test_an_expired_signature_is_refused_and_a_fresh_one_is_not() -> None:
    old = _headers(BODY, [SECRET], NOW - timedelta(seconds=301))
    with pytest.raises(WebhookVerificationError, match="tolerated"):
        verify(BODY, old, (Secret(SECRET),), now=NOW)
    fresh = _headers(BODY, [SECRET], NOW - timedelta(seconds=299))
    verify(BODY, fresh, (Secret(SECRET),), now=NOW)


def test_a_wrong_secret_is_refused_without_revealing_the_signature() -> None:
    headers = _headers(BODY, [OTHER])
    with pytest.raises(WebhookVerificationError) as caught:
        verify(BODY, headers, (Secret(SECRET),), now=NOW)
    expected = signature_header(BODY, [SECRET], int(NOW.timestamp()))
    assert expected.split("v1=")[1] not in str(caught.value)
    assert SECRET not in str(caught.value)


def test_during_rotation_either_configured_secret_verifies() -> None:
    both = (Secret(OTHER), Secret(SECRET))
    verify(BODY, _headers(BODY, [SECRET]), both, now=NOW)
    verify(BODY, _headers(BODY, [OTHER]), both, now=NOW)


def test_any_of_several_v1_signatures_verifies() -> None:
    header = _headers(BODY, [OTHER, SECRET])  # Stripe signing with the old and the new secret
    assert header["Stripe-Signature"].count("v1=") == 2
    verify(BODY, header, (Secret(SECRET),), now=NOW)


@pytest.mark.parametrize(
    "change",
    [
        lambda v: v.upper(),
        lambda v: v + "A",
        lambda v: v + v,
        lambda v: " " + v,
        lambda v: v.replace("v1=", "v0="),
        lambda v: v.split(",", 1)[1],
        lambda v: v[:-1],
    ],
)
def test_an_almost_right_header_is_refused(change: object) -> None:
    value = _headers(BODY, [SECRET])["Stripe-Signature"]
    with pytest.raises(WebhookVerificationError):
        verify(BODY, {"stripe-signature": change(value)}, (Secret(SECRET),), now=NOW)  # type: ignore[operator]


def test_events_of_another_account_or_mode_are_dropped() -> None:
    for change in ({"account": "acct_other"}, {"livemode": True}):
        body = json.dumps({**json.loads(BODY), **change}).encode()
        delivery = verify_and_parse(
            body,
            _headers(body, [SECRET]),
            (Secret(SECRET),),
            now=NOW,
            livemode=False,
            account_id=None,
        )
        assert delivery.events == ()


# -- errors --------------------------------------------------------------------------------


def _response(status: int, error: dict[str, str], **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error}, headers={"Request-Id": "req_1", **headers})


def test_stripe_errors_map_onto_the_core_tree() -> None:
    invalid = error_for_response(
        _response(
            400,
            {"type": "invalid_request_error", "message": "Invalid timestamp", "param": "due_date"},
        )
    )
    assert isinstance(invalid, ValidationError)
    assert invalid.fields == ("due_date",)
    card = error_for_response(
        _response(402, {"type": "card_error", "message": "declined", "param": "source"})
    )
    assert isinstance(card, ValidationError)
    assert card.fields == ("source",)
    assert isinstance(
        error_for_response(_response(401, {"type": "invalid_request_error"})), AuthenticationError
    )
    missing = error_for_response(
        _response(404, {"type": "invalid_request_error", "code": "resource_missing"}),
        resource_id="in_9",
    )
    assert isinstance(missing, NotFoundError)
    assert missing.resource_id == "in_9"
    conflict = error_for_response(
        _response(400, {"type": "idempotency_error", "message": "Keys for idempotent requests"}),
        idempotency_key="k",
    )
    assert isinstance(conflict, IdempotencyConflictError)
    assert conflict.idempotency_key == "k"
    assert isinstance(
        error_for_response(
            _response(409, {"type": "invalid_request_error", "code": "idempotency_key_in_use"})
        ),
        ProviderUnavailableError,
    )
    assert isinstance(
        error_for_response(_response(429, {"type": "invalid_request_error", "code": "rate_limit"})),
        RateLimitedError,
    )
    assert isinstance(
        error_for_response(_response(500, {"type": "api_error"})), ProviderUnavailableError
    )
    assert isinstance(
        error_for_response(
            _response(400, {"type": "invalid_request_error", "code": "invoice_not_editable"})
        ),
        InvalidStateError,
    )
    assert "req_1" in str(error_for_response(_response(500, {"type": "api_error"})))


# -- amounts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        (Decimal("12.50"), "USD", 1250),
        (Decimal("500"), "JPY", 500),
        (Decimal("1200"), "MGA", 1200),  # zero-decimal at Stripe, two decimals in ISO 4217
        (Decimal("5.120"), "KWD", 5120),
    ],
)
def test_amounts_go_to_stripe_minor_units_and_back(
    amount: Decimal, currency: str, units: int
) -> None:
    assert to_stripe_amount(amount, currency, field="f") == units
    assert from_stripe_amount(units, currency) == amount


@pytest.mark.parametrize(
    ("amount", "currency"),
    [(Decimal("12.345"), "USD"), (Decimal("1.5"), "JPY"), (Decimal("5.124"), "KWD")],
)
def test_inexact_amounts_are_refused_naming_the_field(amount: Decimal, currency: str) -> None:
    with pytest.raises(ValidationError) as caught:
        to_stripe_amount(amount, currency, field="line_items[0].unit_amount")
    assert caught.value.fields == ("line_items[0].unit_amount",)


def test_an_invoice_maps_with_neutral_and_raw_status() -> None:
    data = {
        "id": "in_1",
        "currency": "jpy",
        "status": "uncollectible",
        "customer": "cus_1",
        "customer_name": "Ann",
        "total": 500,
        "subtotal": 500,
        "amount_paid": 0,
        "amount_remaining": 500,
        "created": int(NOW.timestamp()),
        "status_transitions": {"finalized_at": int(NOW.timestamp()) + 5},
        "metadata": {"ams_account": "acc-1", "ams_issue_date": "2026-12-01"},
        "lines": {
            "data": [
                {
                    "amount": 500,
                    "quantity": 2,
                    "description": "x",
                    "metadata": {"ams_unit_amount": "250"},
                }
            ]
        },
    }
    invoice = to_invoice(data)
    assert invoice.status is InvoiceStatus.UNCOLLECTIBLE
    assert invoice.provider_status == "uncollectible"
    assert invoice.total == Decimal(500)
    assert invoice.amount_due == Decimal(500)
    assert invoice.contact.account_reference == "acc-1"
    assert invoice.updated_at == NOW + timedelta(seconds=5)
    assert invoice.line_items[0].unit_amount == Decimal(250)
