"""The Django view against the Xero emulator over real HTTP: Intent-to-Receive, then a payment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings

from ams_billing import ChangeKind, Contact, InvoiceChange, InvoiceRequest, LineItem
from ams_billing.contrib.django.processing import get_processor
from ams_billing.contrib.django.service import get_billing_service, reset_billing_service
from ams_billing.contrib.django.stores import DjangoWebhookInbox
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    EmulatorServer,
    XeroEmulator,
    serve_emulator,
)

# The processor's thread reads the inbox on its own connection: it needs committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = EmulatorConfig()


@pytest.fixture
def emulator() -> Iterator[tuple[XeroEmulator, EmulatorServer]]:
    emulator = XeroEmulator(CONFIG, clock=EmulatorClock.real())
    with serve_emulator(emulator) as server:
        yield emulator, server


@pytest.fixture
def xero_settings(emulator: tuple[XeroEmulator, EmulatorServer]) -> Iterator[None]:
    _, server = emulator
    with override_settings(
        AMS_BILLING_SERVICE_CLASS="ams.billing.providers.xero.XeroBillingService",
        XERO_CLIENT_ID=CONFIG.client_id,
        XERO_CLIENT_SECRET=CONFIG.client_secret,
        XERO_TENANT_ID=CONFIG.tenant_id,
        XERO_WEBHOOK_KEY=CONFIG.webhook_key,
        XERO_ACCOUNT_CODE="200",
        XERO_AMOUNT_TYPE="INCLUSIVE",
        XERO_CURRENCY_CODE="NZD",
        XERO_API_URL=server.base_url,
        XERO_IDENTITY_URL=server.base_url,
    ):
        reset_billing_service()
        yield
        reset_billing_service()


@pytest.mark.usefixtures("xero_settings")
def test_the_view_passes_xeros_intent_to_receive(
    live_server: object, emulator: tuple[XeroEmulator, EmulatorServer]
) -> None:
    xero, _ = emulator
    report = xero.intent_to_receive(f"{live_server.url}/billing/xero/webhooks/")  # type: ignore[attr-defined]
    assert report.passed, report.checks
    assert {(check.correctly_signed, check.status) for check in report.checks} == {
        (True, 200),
        (False, 401),
    }


@pytest.mark.usefixtures("xero_settings")
def test_a_payment_in_xero_reaches_the_signal_through_a_real_delivery(
    live_server: object,
    emulator: tuple[XeroEmulator, EmulatorServer],
    changes: list[InvoiceChange],
) -> None:
    xero, _ = emulator
    xero.set_webhook_target(f"{live_server.url}/billing/xero/webhooks/")  # type: ignore[attr-defined]
    invoice = get_billing_service().create_invoice(
        InvoiceRequest(
            contact=Contact("acct-django", "Grace Hopper", "grace@example.org"),
            line_items=[LineItem("Membership", 1, Decimal("90.00"))],
            currency="NZD",
            issue_date=date(2026, 7, 1),
            due_date=date(2026, 7, 31),
        ),
        idempotency_key="invoice:django-1",
    )
    xero.record_payment(invoice.provider_id, invoice.total)
    results = xero.deliver_webhooks(force=True)
    assert results
    assert all(result.status == 200 for result in results)
    assert get_processor().drain(10)
    assert [(c.invoice.provider_id, c.kind) for c in changes] == [
        (invoice.provider_id, ChangeKind.PAID)
    ]


@pytest.mark.usefixtures("xero_settings")
def test_a_restart_drains_what_the_old_process_left(
    live_server: object,
    emulator: tuple[XeroEmulator, EmulatorServer],
    changes: list[InvoiceChange],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    xero, _ = emulator
    xero.set_webhook_target(f"{live_server.url}/billing/xero/webhooks/")  # type: ignore[attr-defined]
    old = get_processor()
    monkeypatch.setattr(old, "_ensure_started", lambda: None)  # it dies before processing
    invoices = [
        get_billing_service().create_invoice(
            InvoiceRequest(
                contact=Contact(f"acct-restart-{n}", f"Member {n}", f"m{n}@example.org"),
                line_items=[LineItem("Membership", 1, Decimal("90.00"))],
                currency="NZD",
                issue_date=date(2026, 7, 1),
                due_date=date(2026, 7, 31),
            ),
            idempotency_key=f"invoice:restart-{n}",
        )
        for n in range(3)
    ]
    for invoice in invoices:
        xero.record_payment(invoice.provider_id, invoice.total)
    results = xero.deliver_webhooks(force=True)
    assert results
    assert all(result.status == 200 for result in results)
    assert DjangoWebhookInbox().pending() == len(results)
    assert changes == []

    reset_billing_service()  # the restart: a new service, a new processor, the same database
    new = get_processor()
    assert new is not old
    assert get_billing_service().provider.ledger.get("invoice:restart-0") is not None  # type: ignore[attr-defined]
    assert new.drain(20)
    assert DjangoWebhookInbox().pending() == 0
    assert sorted((c.invoice.provider_id, c.kind) for c in changes) == sorted(
        (invoice.provider_id, ChangeKind.PAID) for invoice in invoices
    )
