"""Deliveries that carry the invoice's state are processed without reading the invoice."""

from __future__ import annotations

from datetime import date

import attrs
import pytest

from ams_billing import (
    BillingService,
    ChangeKind,
    Contact,
    InvoiceChange,
    InvoiceRequest,
    LineItem,
    ValidationError,
    WebhookDelivery,
    hookimpl,
)
from ams_billing.core.behaviour import ProviderBehaviour, WebhookBehaviour
from ams_billing.core.webhooks import drain_inbox
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing import FakeDriver, ScratchStores

SNAPSHOTS = ProviderBehaviour(webhooks=WebhookBehaviour(snapshot_events=True))


class Listener:
    def __init__(self) -> None:
        self.changes: list[InvoiceChange] = []

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        self.changes.append(change)


def _paid(fake: FakeProvider, service: BillingService) -> tuple[str, WebhookDelivery]:
    invoice = service.create_invoice(
        InvoiceRequest(
            contact=Contact("acct-1", "Member"),
            line_items=[LineItem("Membership", 1, "10.00")],
            currency="NZD",
            issue_date=date(2026, 7, 1),
            due_date=date(2026, 7, 31),
        ),
        idempotency_key="i-1",
    )
    driver = FakeDriver(fake)
    driver.take_webhook_deliveries()
    driver.record_payment(invoice.provider_id, invoice.total)
    (signed,) = driver.take_webhook_deliveries()
    delivery = service.handle_webhook(signed.body, signed.headers).delivery
    assert delivery is not None
    return invoice.provider_id, delivery


@pytest.mark.parametrize("snapshots", [True, False], ids=["snapshot-events", "thin-events"])
def test_a_delivery_with_the_invoice_state_reads_nothing(snapshots: bool) -> None:
    fake = FakeProvider(
        behaviour=ProviderBehaviour(webhooks=WebhookBehaviour(snapshot_events=snapshots))
    )
    listener = Listener()
    service = BillingService(fake, listeners=[listener])
    invoice_id, delivery = _paid(fake, service)
    fake.calls.clear()

    service.process_webhook(delivery)

    assert [(c.invoice.provider_id, c.kind) for c in listener.changes] == [
        (invoice_id, ChangeKind.PAID)
    ]
    # The thin delivery is the control: the same count sees its read.
    assert fake.calls == ([] if snapshots else ["get_invoices"])


def test_the_state_survives_the_durable_inbox_and_is_processed_without_a_read() -> None:
    fake = FakeProvider(behaviour=SNAPSHOTS)
    listener = Listener()
    scratch = ScratchStores()
    try:
        stores = scratch.stores
        service = BillingService(
            fake, listeners=[listener], state_store=stores.invoice_state, inbox=stores.inbox
        )
        invoice_id, delivery = _paid(fake, service)
        stores.inbox.add(delivery)
        (kept,) = stores.inbox.claim(1, lease_seconds=0)
        assert kept.delivery == delivery
        assert any(event.snapshot is not None for event in kept.delivery.events)
        fake.calls.clear()

        result = drain_inbox(service)

        assert (result.processed, result.failed) == (1, 0)
        assert [(c.invoice.provider_id, c.kind) for c in listener.changes] == [
            (invoice_id, ChangeKind.PAID)
        ]
        assert fake.calls == []
    finally:
        scratch.close()


def test_a_snapshot_must_be_the_invoice_its_event_names() -> None:
    fake = FakeProvider(behaviour=SNAPSHOTS)
    _, delivery = _paid(fake, BillingService(fake))
    event = next(e for e in delivery.events if e.snapshot is not None)
    with pytest.raises(ValidationError) as raised:
        attrs.evolve(event, resource_id="another-invoice")
    assert raised.value.fields == ("snapshot",)
