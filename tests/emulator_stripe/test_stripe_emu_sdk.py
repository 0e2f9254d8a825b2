"""Stripe's own SDK (stripe-python 16.1, unmodified, only the base URL changed) runs the billing
flow against the emulator over real loopback HTTP (issue 19, item 3).
"""

from __future__ import annotations

import json

import pytest
from stripe_emu_helpers import webhook_receiver

from ams_billing.emulators.stripe import StripeEmulator

stripe = pytest.importorskip("stripe")


def test_the_sdk_is_the_pinned_release() -> None:
    assert stripe.VERSION.startswith("16.1.")


def test_billing_flow_with_signed_deliveries(emu: StripeEmulator, sdk: stripe.StripeClient) -> None:
    with webhook_receiver() as (url, received):
        endpoint = sdk.v1.webhook_endpoints.create(
            {"url": url, "enabled_events": ["invoice.*", "customer.created"]}
        )
        assert endpoint.secret.startswith("whsec_")
        again = sdk.v1.webhook_endpoints.retrieve(endpoint.id)
        assert "secret" not in again  # shown once, at creation
        assert [e.id for e in sdk.v1.webhook_endpoints.list().data] == [endpoint.id]

        customer = sdk.v1.customers.create(
            {"email": "ada@example.org", "name": "Ada Lovelace", "metadata": {"ams_id": "42"}}
        )
        item = sdk.v1.invoice_items.create(
            {"customer": customer.id, "amount": 12_500, "currency": "usd", "description": "Dues"}
        )
        assert item.invoice is None  # pending until an invoice pulls it in
        draft = sdk.v1.invoices.create(
            {
                "customer": customer.id,
                "collection_method": "send_invoice",
                "days_until_due": 30,
                "pending_invoice_items_behavior": "include",
                "metadata": {"ams_invoice": "7"},
            }
        )
        assert draft.status == "draft"
        assert draft.hosted_invoice_url is None
        assert draft.number is None
        extra = sdk.v1.invoice_items.create(
            {"customer": customer.id, "invoice": draft.id, "amount": 500, "description": "Fee"}
        )
        assert extra.invoice == draft.id
        draft = sdk.v1.invoices.retrieve(draft.id)
        assert (draft.total, draft.amount_due) == (13_000, 13_000)
        assert [line.amount for line in draft.lines.data] == [12_500, 500]

        opened = sdk.v1.invoices.finalize_invoice(draft.id)
        assert opened.status == "open"
        assert opened.number.startswith(customer.invoice_prefix + "-")
        assert opened.hosted_invoice_url.startswith(emu.base_url)
        assert opened.due_date == opened.status_transitions.finalized_at + 30 * 86_400
        sent = sdk.v1.invoices.send_invoice(opened.id)
        assert sent.status == "open"
        listed = sdk.v1.invoices.list({"customer": customer.id, "status": "open"})
        assert [i.id for i in listed.data] == [opened.id]

        paid = emu.pay_invoice(opened.id)
        assert paid["status"] == "paid"
        assert sdk.v1.invoices.retrieve(opened.id).amount_paid == 13_000

        types = [e.type for e in sdk.v1.events.list({"limit": 100}).data]
        assert types == [
            "invoice.paid",
            "invoice.sent",
            "invoice.finalized",
            "invoiceitem.created",
            "invoice.created",
            "invoiceitem.created",
            "customer.created",
        ]
        paid_events = sdk.v1.events.list({"type": "invoice.paid"}).data
        assert [e.data.object.id for e in paid_events] == [opened.id]

        attempts = emu.deliver_webhooks()
        assert attempts
        assert all(a.ok for a in attempts)
        delivered = []
        for body, headers in received.deliveries:
            event = stripe.Webhook.construct_event(
                body, headers["stripe-signature"], endpoint.secret
            )
            delivered.append(event.type)
            with pytest.raises(stripe.SignatureVerificationError):
                stripe.Webhook.construct_event(body, headers["stripe-signature"], "whsec_wrong")
        assert delivered == [
            "customer.created",
            "invoice.created",
            "invoice.finalized",
            "invoice.sent",
            "invoice.paid",
        ]
        snapshot = json.loads(received.deliveries[-1][0])["data"]["object"]
        assert snapshot["status"] == "paid"  # a snapshot event carries the object's state
        assert sdk.v1.events.list({"delivery_success": False}).data == []


def test_signing_at_a_chosen_time_trips_the_sdk_tolerance(
    emu: StripeEmulator, sdk: stripe.StripeClient
) -> None:
    with webhook_receiver() as (url, received):
        endpoint = sdk.v1.webhook_endpoints.create({"url": url, "enabled_events": ["*"]})
        sdk.v1.customers.create({"name": "Late"})
        stale = int(emu.clock.now().timestamp()) - 3600
        emu.deliver_webhooks(at=stale)
        body, headers = received.deliveries[0]
        assert headers["stripe-signature"].startswith(f"t={stale},v1=")
        with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
            stripe.Webhook.construct_event(body, headers["stripe-signature"], endpoint.secret)
        event = stripe.Webhook.construct_event(
            body, headers["stripe-signature"], endpoint.secret, tolerance=7200
        )
        assert event.type == "customer.created"


def test_idempotent_replay_and_a_reused_key(sdk: stripe.StripeClient) -> None:
    params = {"email": "grace@example.org", "metadata": {"ams_id": "7"}}
    first = sdk.v1.customers.create(params, {"idempotency_key": "member-7"})
    second = sdk.v1.customers.create(params, {"idempotency_key": "member-7"})
    assert second.id == first.id
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    with pytest.raises(stripe.IdempotencyError) as caught:
        sdk.v1.customers.create({"email": "other@example.org"}, {"idempotency_key": "member-7"})
    assert caught.value.http_status == 400
    assert len(sdk.v1.customers.list().data) == 1


def test_resource_missing(sdk: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.invoices.retrieve("in_doesnotexist")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert caught.value.request_id.startswith("req_")


def test_void_and_uncollectible(sdk: stripe.StripeClient) -> None:
    customer = sdk.v1.customers.create({"name": "Void"})
    invoices = []
    for _ in range(2):
        draft = sdk.v1.invoices.create({"customer": customer.id})
        sdk.v1.invoice_items.create({"customer": customer.id, "invoice": draft.id, "amount": 900})
        invoices.append(sdk.v1.invoices.finalize_invoice(draft.id))
    voided = sdk.v1.invoices.void_invoice(invoices[0].id)
    assert voided.status == "void"
    assert voided.status_transitions.voided_at is not None
    written_off = sdk.v1.invoices.mark_uncollectible(invoices[1].id)
    assert written_off.status == "uncollectible"
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.invoices.void_invoice(invoices[0].id)  # void is terminal
    paid = sdk.v1.invoices.pay(invoices[1].id, {"paid_out_of_band": True})
    assert paid.status == "paid"  # an uncollectible invoice can still be paid


def test_customer_search_by_metadata_after_the_indexing_delay(
    emu: StripeEmulator, sdk: stripe.StripeClient
) -> None:
    customer = sdk.v1.customers.create({"name": "Search", "metadata": {"ams_id": "99"}})
    query = {"query": "metadata['ams_id']:'99'"}
    assert sdk.v1.customers.search(query).data == []  # not indexed yet (§1.6)
    emu.advance_clock(emu.search_indexing_delay)
    found = sdk.v1.customers.search(query)
    assert [c.id for c in found.data] == [customer.id]
    assert sdk.v1.customers.search({"query": 'metadata["ams_id"]:"98"'}).data == []


def test_draft_delete_and_zero_total(sdk: stripe.StripeClient) -> None:
    customer = sdk.v1.customers.create({"name": "Zero", "email": "zero@example.org"})
    draft = sdk.v1.invoices.create({"customer": customer.id})
    deleted = sdk.v1.invoices.delete(draft.id)
    assert deleted.deleted is True
    empty = sdk.v1.invoices.create({"customer": customer.id})
    finalized = sdk.v1.invoices.finalize_invoice(empty.id)
    assert finalized.status == "paid"  # §3.9: a zero amount_due is paid at finalization
    sdk.v1.customers.update(customer.id, {"name": "Renamed", "email": "new@example.org"})
    again = sdk.v1.invoices.retrieve(empty.id)
    assert (again.customer_name, again.customer_email) == ("Zero", "zero@example.org")
