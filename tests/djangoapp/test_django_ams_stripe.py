"""ams_billing.contrib.ams.StripeBillingService and the AMS's webhook routes, outside the AMS.

What needs the AMS's models (rows, memberships) is proven inside the AMS by ``nox -s ams``
(tests/in_ams/test_ams_stripe_end_to_end.py).
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from ams_billing import ConfigurationError
from ams_billing.contrib.ams import StripeBillingService, XeroBillingService
from ams_billing.contrib.ams.views import stripe_webhooks, xero_webhooks
from ams_billing.contrib.django.models import InboxEntryRow
from ams_billing.contrib.django.service import reset_billing_service
from ams_billing.core.models import LineItem
from ams_billing.emulators.stripe import DEFAULT_SECRET_KEY
from ams_billing.providers.stripe.webhooks import signature_header

WEBHOOK_SECRET = "whsec_test_django_ams_stripe_0123456789"


@pytest.fixture
def no_currency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_CURRENCY", raising=False)


@pytest.mark.usefixtures("no_currency")
def test_the_currency_is_required_and_named_with_its_fix() -> None:
    with pytest.raises(ConfigurationError) as raised:
        StripeBillingService().currency_code()
    assert [e.field for e in raised.value.errors] == ["STRIPE_CURRENCY"]
    assert "e.g. NZD" in str(raised.value)


@pytest.mark.usefixtures("no_currency")
def test_the_currency_comes_from_django_settings_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPE_CURRENCY", "AUD")
    assert StripeBillingService().currency_code() == "AUD"
    with override_settings(STRIPE_CURRENCY="NZD"):
        assert StripeBillingService().currency_code() == "NZD"


@pytest.mark.usefixtures("no_currency")
@pytest.mark.parametrize(
    ("value", "said"), [("XYZ", "XYZ is not an ISO 4217 currency"), ("nzd", "in capitals")]
)
def test_a_wrong_currency_is_refused_by_its_setting_name(value: str, said: str) -> None:
    with override_settings(STRIPE_CURRENCY=value), pytest.raises(ConfigurationError) as raised:
        StripeBillingService().currency_code()
    assert [e.field for e in raised.value.errors] == ["STRIPE_CURRENCY"]
    assert said in str(raised.value)


def test_a_line_stripe_can_take_is_billed_as_the_ams_wrote_it() -> None:
    item = {"description": "Annual", "unit_amount": Decimal("120.00"), "quantity": 2}
    assert StripeBillingService().line_item(0, item, "NZD") == LineItem(
        description="Annual", quantity=Decimal(2), unit_amount=Decimal("120.00")
    )


def test_a_pro_rata_seat_price_is_billed_as_its_total_in_cents() -> None:
    # The AMS's extra seats: prorata_cost / seats, which may not end in cents.
    item = {"description": "Seats", "unit_amount": Decimal("100.00") / 3, "quantity": 3}
    line = StripeBillingService().line_item(0, item, "NZD")
    assert line == LineItem(
        description="Seats (quantity 3)", quantity=Decimal(1), unit_amount=Decimal("100.00")
    )


def test_a_fractional_quantity_is_billed_as_the_line_total() -> None:
    item = {"description": "Hours", "unit_amount": Decimal("10.00"), "quantity": Decimal("1.5")}
    line = StripeBillingService().line_item(0, item, "JPY")
    assert (line.quantity, line.unit_amount) == (Decimal(1), Decimal(15))
    assert line.description == "Hours (quantity 1.5)"


def test_xero_keeps_its_four_place_unit_amounts() -> None:
    item = {"description": "Seats", "unit_amount": Decimal("100.00") / 3, "quantity": 3}
    line = XeroBillingService().line_item(0, item, "NZD")
    assert (line.quantity, line.unit_amount) == (Decimal(3), Decimal("33.3333"))


@override_settings(ROOT_URLCONF="ams_urls")
def test_one_include_serves_the_guides_url_and_stripes_in_the_ams_namespace() -> None:
    assert reverse("billing:xero-webhooks") == "/billing/xero/webhooks/"
    assert reverse("billing:stripe-webhooks") == "/billing/stripe/webhooks/"


def _post(view: object, headers: dict[str, str]) -> int:
    request = RequestFactory().post(
        "/", data=b'{"events":[]}', content_type="application/json", headers=headers
    )
    return view(request).status_code  # type: ignore[operator]


def test_a_route_for_another_provider_answers_421() -> None:
    # The test settings bill through the fake (as the AMS's MockXeroBillingService does).
    assert _post(stripe_webhooks, {"Stripe-Signature": "t=1,v1=00"}) == 421


def test_the_guides_route_still_refuses_a_forged_delivery_with_401() -> None:
    assert _post(xero_webhooks, {"X-Xero-Signature": "Zm9yZ2Vk"}) == 401


@pytest.fixture
def on_stripe(settings: object) -> None:
    """The project bills through the ``stripe`` provider; deliveries are only kept."""
    for name, value in {
        "AMS_BILLING_SERVICE_CLASS": "ams_billing.contrib.ams.StripeBillingService",
        "STRIPE_SECRET_KEY": DEFAULT_SECRET_KEY,  # the emulator's fake key, of the right shape
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": "http://127.0.0.1:9",  # nothing is called: the view only verifies
        "STRIPE_CURRENCY": "NZD",
        "AMS_BILLING_WEBHOOK_PROCESSING": "none",
        "ROOT_URLCONF": "ams_urls",
    }.items():
        setattr(settings, name, value)
    reset_billing_service()


def _event(kind: str = "invoice.paid") -> bytes:
    invoice = {
        "id": "in_1AmsDjangoStripe",
        "object": "invoice",
        "status": "paid",
        "currency": "nzd",
        "livemode": False,
    }
    return json.dumps(
        {
            "id": "evt_1AmsDjangoStripe",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": invoice},
        }
    ).encode()


def _deliver(body: bytes, secret: str, at: int) -> int:
    headers = {"Stripe-Signature": signature_header(body, [secret], at)}
    answer = Client().post(
        "/billing/stripe/webhooks/", data=body, content_type="application/json", headers=headers
    )
    assert answer.content == b""
    return answer.status_code


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("on_stripe")
def test_a_signed_stripe_delivery_is_kept_before_its_2xx() -> None:
    assert _deliver(_event(), WEBHOOK_SECRET, int(time.time())) == 200
    assert InboxEntryRow.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("on_stripe")
@pytest.mark.parametrize(
    ("secret", "age"),
    [("whsec_forged_0123456789", 0), (WEBHOOK_SECRET, 3600)],
    ids=["forged", "expired"],
)
def test_a_forged_or_expired_stripe_delivery_gets_401_and_is_not_kept(
    secret: str, age: int
) -> None:
    assert _deliver(_event(), secret, int(time.time()) - age) == 401
    assert InboxEntryRow.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("on_stripe")
def test_the_guides_xero_route_answers_421_while_billing_through_stripe() -> None:
    answer = Client().post(
        "/billing/xero/webhooks/",
        data=b'{"events":[]}',
        content_type="application/json",
        headers={"X-Xero-Signature": "Zm9yZ2Vk"},
    )
    assert answer.status_code == 421
