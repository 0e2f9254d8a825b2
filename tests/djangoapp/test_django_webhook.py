"""The Django webhook view: test client for the rules, a live server for real HTTP."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from django.test import Client, override_settings

from ams_billing import ChangeKind, Contact, InvoiceChange, InvoiceRequest, LineItem
from ams_billing.contracts import SignedDelivery
from ams_billing.contrib.django.processing import get_processor
from ams_billing.contrib.django.service import get_billing_service
from ams_billing.contrib.django.signals import invoice_changed
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing.fake import FakeDriver

# The processor's thread reads the inbox on its own connection: it needs committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

URL = "/billing/xero/webhooks/"


def paid_delivery() -> SignedDelivery:
    service = get_billing_service()
    fake = service.provider
    assert isinstance(fake, FakeProvider)
    invoice = service.create_invoice(
        InvoiceRequest(
            contact=Contact("acct-1", "Ada", "ada@example.org"),
            line_items=[LineItem("Membership", 1, "80.00")],
            currency="NZD",
            issue_date=date(2026, 7, 1),
            due_date=date(2026, 7, 31),
        ),
        idempotency_key="i-1",
    )
    FakeDriver(fake).take_webhook_deliveries()
    FakeDriver(fake).record_payment(invoice.provider_id, invoice.total)
    (delivery,) = FakeDriver(fake).take_webhook_deliveries()
    return delivery


def post(client: Client, delivery: SignedDelivery, **extra: str) -> object:
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in delivery.headers.items()}
    return client.post(
        URL, data=delivery.body, content_type="application/json", **(headers | extra)
    )


@pytest.fixture
def changes() -> list[InvoiceChange]:
    received: list[InvoiceChange] = []

    def receiver(sender: object, change: InvoiceChange, **kwargs: object) -> None:
        received.append(change)

    invoice_changed.connect(receiver)
    yield received
    invoice_changed.disconnect(receiver)


def test_a_signed_delivery_is_acknowledged_then_the_signal_fires_once(
    changes: list[InvoiceChange],
) -> None:
    client = Client(enforce_csrf_checks=True)
    delivery = paid_delivery()
    response = post(client, delivery)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.content == b""  # type: ignore[attr-defined]
    assert not response.cookies  # type: ignore[attr-defined]
    post(client, delivery)
    assert get_processor().drain(5)
    assert [change.kind for change in changes] == [ChangeKind.PAID]


def test_a_bad_signature_is_401_and_nothing_is_processed(changes: list[InvoiceChange]) -> None:
    delivery = paid_delivery()
    tampered = SignedDelivery(delivery.body.replace(b"UPDATE", b"CREATE"), delivery.headers)
    response = post(Client(), tampered)
    assert (response.status_code, response.content) == (401, b"")  # type: ignore[attr-defined]
    assert get_processor().drain(5)
    assert changes == []


def test_only_post_is_allowed() -> None:
    response = Client().get(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_settings_override_the_environment() -> None:
    with override_settings(AMS_BILLING_SERVICE_CLASS="no-such-provider"):
        from ams_billing import ProviderNotFoundError
        from ams_billing.contrib.django.service import reset_billing_service

        reset_billing_service()
        with pytest.raises(ProviderNotFoundError):
            get_billing_service()


def test_real_http_through_the_live_server(
    live_server: object, changes: list[InvoiceChange]
) -> None:
    delivery = paid_delivery()
    url = f"{live_server.url}{URL}"  # type: ignore[attr-defined]
    response = httpx.post(url, content=delivery.body, headers=dict(delivery.headers))
    assert (response.status_code, response.content) == (200, b"")
    assert "set-cookie" not in response.headers
    assert httpx.post(url, content=delivery.body, headers={}).status_code == 401
    assert get_processor().drain(5)
    assert [change.kind for change in changes] == [ChangeKind.PAID]
