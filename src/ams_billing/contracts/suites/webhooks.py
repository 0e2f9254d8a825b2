"""Contract: webhook deliveries verify over raw bytes, and listeners hear each change once.

What a provider declares in ``behaviour.webhooks`` decides which further tests run:
``intent_to_receive`` the empty-delivery test, ``signature_tolerance`` the tests of deliveries
signed at a chosen time (inside the tolerance, older than it, replayed), ``snapshot_events``
the test that processing reads nothing. Each skips, saying so, when not declared.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs
import pytest

from ams_billing.contracts.builders import invoice_request, unique, unpaid_invoice
from ams_billing.contracts.capabilities import (
    require_capability,
    require_fault_injector,
    require_intent_to_receive,
    require_signature_tolerance,
    require_snapshot_events,
    require_webhook_signer,
)
from ams_billing.contracts.case import ContractCase
from ams_billing.contracts.checks import (
    RecordingListener,
    check_explained,
    money,
    reformatted,
    retargeted,
    signature_headers,
)
from ams_billing.core.errors import (
    ProviderUnavailableError,
    ValidationError,
    WebhookVerificationError,
)
from ams_billing.core.models import (
    Capability,
    EventCategory,
    Invoice,
    InvoiceStatus,
    WebhookDelivery,
)
from ams_billing.testing.harness import ContractHarness, SignedDelivery

__all__ = ["WebhookContract"]


def _paid_with_deliveries(
    harness: ContractHarness,
) -> tuple[Invoice, list[SignedDelivery], list[SignedDelivery]]:
    """A fully paid invoice; the deliveries after creating it and after paying it."""
    harness.driver.take_webhook_deliveries()  # whatever came before is not this test's
    invoice = unpaid_invoice(harness)
    created = harness.driver.take_webhook_deliveries()
    harness.driver.record_payment(invoice.provider_id, invoice.amount_due)
    paid = harness.driver.take_webhook_deliveries()
    assert paid, "the driver produced no webhook delivery after a payment"
    return invoice, created, paid


def _signed_at(harness: ContractHarness, deliveries: list[SignedDelivery]) -> datetime:
    """When the accounting system sent ``deliveries``, by its own clock: their latest event."""
    times = [e.occurred_at for d in deliveries for e in _parse(harness, d).events]
    assert times, "the driver's deliveries carry no event to tell the time by"
    return max(times)


def _parse(harness: ContractHarness, delivery: SignedDelivery) -> WebhookDelivery:
    return harness.service.parse_webhook(delivery.body, delivery.headers)


def _process(harness: ContractHarness, deliveries: list[SignedDelivery]) -> None:
    for delivery in deliveries:
        response = harness.service.handle_webhook(delivery.body, delivery.headers)
        assert response.status == 200
        assert response.delivery is not None
        harness.service.process_webhook(response.delivery)


_SIGNATURE_CHANGES: dict[str, Callable[[str], str]] = {
    "swapped-case": str.swapcase,
    "lower-case": str.lower,
    "upper-case": str.upper,
    "cut-by-one": lambda value: value[:-1],
    "first-half": lambda value: value[: len(value) // 2],
    "last-half": lambda value: value[len(value) // 2 :],
    "one-more-character": lambda value: f"{value}A",
    "doubled": lambda value: value + value,
    "empty": lambda value: "",
    "not-ascii": lambda value: f"{value[:-1]}\u00e9",
    "leading-space": lambda value: f" {value}",
    "trailing-space": lambda value: f"{value} ",
    "trailing-newline": lambda value: f"{value}\n",
    "padded-tab": lambda value: f"\t{value}\t",
}
"""Ways a signature header can be almost right; each must be refused."""

NOT_A_DELIVERY = {
    "text": b"this is not a webhook delivery",
    "binary": b"\xff\xfe\x00",
    "json-list": b"[1, 2, 3]",
}
"""Bodies that are no delivery of any provider."""


class WebhookContract(ContractCase):
    """``parse_webhook`` and ``handle_webhook``/``process_webhook`` with the driver's deliveries."""

    def test_driver_deliveries_verify_and_name_the_invoice(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        invoice, _, paid = _paid_with_deliveries(harness)
        parsed = [_parse(harness, delivery) for delivery in paid]
        named = {invoice_id for delivery in parsed for invoice_id in delivery.invoice_ids}
        assert invoice.provider_id in named
        events = [e for d in parsed for e in d.events if e.resource_id == invoice.provider_id]
        assert all(event.category is EventCategory.INVOICE for event in events)
        assert all(event.occurred_at.tzinfo is not None for event in events)

    def test_header_names_are_case_insensitive(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        _, _, paid = _paid_with_deliveries(harness)
        for delivery in paid:
            for rename in (str.upper, str.title):
                headers = {rename(name): value for name, value in delivery.headers.items()}
                assert _parse(harness, attrs.evolve(delivery, headers=headers)).events

    @pytest.mark.parametrize(
        "tamper", [reformatted, retargeted], ids=["reformatted-body", "changed-body"]
    )
    def test_tampered_body_is_refused(
        self, harness: ContractHarness, tamper: Callable[[SignedDelivery], SignedDelivery]
    ) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        _, _, paid = _paid_with_deliveries(harness)
        for delivery in paid:
            forged = tamper(delivery)
            assert forged.body != delivery.body
            with pytest.raises(WebhookVerificationError):
                _parse(harness, forged)

    def test_signature_of_another_delivery_is_refused(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        _, created, paid = _paid_with_deliveries(harness)
        if not created:
            pytest.skip("the provider sent no delivery for a new invoice to swap signatures with")
        swapped = attrs.evolve(paid[0], headers=created[0].headers)
        assert swapped.body != created[0].body
        with pytest.raises(WebhookVerificationError):
            _parse(harness, swapped)

    def test_corrupted_signature_is_refused(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        _, _, paid = _paid_with_deliveries(harness)
        delivery = paid[0]
        for name in signature_headers(harness, delivery):
            headers = dict(delivery.headers)
            value = headers[name]
            headers[name] = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
            with pytest.raises(WebhookVerificationError):
                _parse(harness, attrs.evolve(delivery, headers=headers))

    @pytest.mark.parametrize("change", list(_SIGNATURE_CHANGES))
    def test_signature_must_match_exactly(self, harness: ContractHarness, change: str) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        _, _, paid = _paid_with_deliveries(harness)
        delivery = paid[0]
        for name in signature_headers(harness, delivery):
            value = delivery.headers[name]
            forged = _SIGNATURE_CHANGES[change](value)
            if forged == value:
                continue  # e.g. no letters to change the case of
            headers = {**delivery.headers, name: forged}
            with pytest.raises(WebhookVerificationError):
                _parse(harness, attrs.evolve(delivery, headers=headers))

    @pytest.mark.parametrize(
        "body",
        [*NOT_A_DELIVERY.values(), b"", b"{}"],
        ids=[*NOT_A_DELIVERY, "empty", "empty-object"],
    )
    def test_signature_is_verified_before_the_body_is_parsed(
        self, harness: ContractHarness, body: bytes
    ) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        _, _, paid = _paid_with_deliveries(harness)
        # Another body under a genuine delivery's headers: a verification error, never a
        # ValidationError (that would say the sender was genuine) nor any other exception.
        with pytest.raises(WebhookVerificationError):
            _parse(harness, attrs.evolve(paid[0], body=body))
        response = harness.service.handle_webhook(body, paid[0].headers)
        assert (response.status, response.delivery) == (401, None)

    @pytest.mark.parametrize("body", NOT_A_DELIVERY.values(), ids=list(NOT_A_DELIVERY))
    def test_signed_body_that_is_not_a_delivery_raises_validation_error(
        self, harness: ContractHarness, body: bytes
    ) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        signed = require_webhook_signer(harness).sign_webhook_body(body)
        with pytest.raises(ValidationError) as raised:
            _parse(harness, signed)
        check_explained(raised.value, "body")
        # The sender is genuine: a 4xx would only make it retry.
        response = harness.service.handle_webhook(signed.body, signed.headers)
        assert (response.status, response.delivery) == (200, None)

    def test_empty_delivery_is_answered_200(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        empty = require_intent_to_receive(harness).sign_empty_delivery()
        assert _parse(harness, empty).events == ()
        response = harness.service.handle_webhook(empty.body, empty.headers)
        assert response.status == 200
        assert response.delivery is not None
        assert response.delivery.events == ()

    def test_other_tenants_events_are_dropped(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        signer = require_webhook_signer(harness)
        listener = RecordingListener()
        harness.service.add_listener(listener)
        invoice = unpaid_invoice(harness)
        harness.driver.record_payment(invoice.provider_id, invoice.amount_due)
        harness.driver.take_webhook_deliveries()
        foreign = signer.sign_foreign_delivery(invoice.provider_id)
        parsed = _parse(harness, foreign)
        assert invoice.provider_id not in parsed.invoice_ids
        assert all(event.resource_id != invoice.provider_id for event in parsed.events)
        _process(harness, [foreign])
        assert listener.kinds_for(invoice.provider_id) == []

    def test_parsing_makes_no_provider_call(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        faults = require_fault_injector(harness)
        invoice, _, paid = _paid_with_deliveries(harness)
        # Every call to the provider would fail now; parsing must not need one.
        faults.fail_next(5, ProviderUnavailableError)
        for delivery in paid:
            assert invoice.provider_id in _parse(harness, delivery).invoice_ids

    def test_delivery_naming_several_invoices_reports_each(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        listener = RecordingListener()
        harness.service.add_listener(listener)
        invoices = [unpaid_invoice(harness) for _ in range(3)]
        harness.driver.take_webhook_deliveries()
        for invoice in invoices:
            harness.driver.record_payment(invoice.provider_id, invoice.amount_due)
        deliveries = harness.driver.take_webhook_deliveries()
        named = {i for d in deliveries for i in _parse(harness, d).invoice_ids}
        assert {invoice.provider_id for invoice in invoices} <= named
        _process(harness, deliveries)
        for invoice in invoices:
            assert listener.kinds_for(invoice.provider_id) == ["paid"], invoice.provider_id

    def test_part_payment_has_its_own_delivery(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        listener = RecordingListener()
        harness.service.add_listener(listener)
        invoice = unpaid_invoice(harness)
        harness.driver.take_webhook_deliveries()
        part = money(invoice.amount_due / 3, invoice.currency)
        harness.driver.record_payment(invoice.provider_id, part)
        deliveries = harness.driver.take_webhook_deliveries()
        assert deliveries, "the driver produced no webhook delivery after a part payment"
        named = {i for d in deliveries for i in _parse(harness, d).invoice_ids}
        assert invoice.provider_id in named
        _process(harness, deliveries)
        assert listener.kinds_for(invoice.provider_id) == ["partially_paid"]
        [change] = [c for c in listener.changes if c.invoice.provider_id == invoice.provider_id]
        assert change.invoice.status is InvoiceStatus.OPEN
        assert (change.invoice.amount_paid, change.invoice.amount_due) == (
            part,
            invoice.amount_due - part,
        )

    def test_absent_signature_is_refused(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        _, _, paid = _paid_with_deliveries(harness)
        with pytest.raises(WebhookVerificationError):
            _parse(harness, attrs.evolve(paid[0], headers={}))
        with pytest.raises(WebhookVerificationError):
            _parse(harness, attrs.evolve(paid[0], headers={"content-type": "application/json"}))

    def test_handle_webhook_answers_200_or_401(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        invoice, _, paid = _paid_with_deliveries(harness)
        good = harness.service.handle_webhook(paid[0].body, paid[0].headers)
        assert good.status == 200
        assert good.delivery is not None
        assert invoice.provider_id in good.delivery.invoice_ids
        bad = harness.service.handle_webhook(retargeted(paid[0]).body, paid[0].headers)
        assert (bad.status, bad.delivery) == (401, None)
        unsigned = harness.service.handle_webhook(paid[0].body, {})
        assert (unsigned.status, unsigned.delivery) == (401, None)

    def test_listener_hears_paid_once_despite_duplicates_and_reordering(
        self, harness: ContractHarness
    ) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        listener = RecordingListener()
        harness.service.add_listener(listener)
        invoice, created, paid = _paid_with_deliveries(harness)
        # Duplicated, then an older delivery replayed after the newer one, then again.
        for delivery in [*paid, *paid, *created, *paid]:
            response = harness.service.handle_webhook(delivery.body, delivery.headers)
            assert response.status == 200
            assert response.delivery is not None
            harness.service.process_webhook(response.delivery)
        assert listener.kinds_for(invoice.provider_id) == ["paid"]
        [change] = [c for c in listener.changes if c.invoice.provider_id == invoice.provider_id]
        assert change.invoice.status is InvoiceStatus.PAID
        assert change.invoice.amount_due == 0
        assert change.invoice.fully_paid_on is not None

    def test_listener_hears_partial_then_full_payment(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        listener = RecordingListener()
        harness.service.add_listener(listener)
        invoice = unpaid_invoice(harness)
        part = money(invoice.amount_due / 4, invoice.currency)
        deliveries: list[SignedDelivery] = []
        for amount in (part, invoice.amount_due - part):
            harness.driver.record_payment(invoice.provider_id, amount)
            batch = harness.driver.take_webhook_deliveries()
            deliveries.extend(batch)
            for delivery in [*batch, *deliveries]:
                response = harness.service.handle_webhook(delivery.body, delivery.headers)
                assert response.delivery is not None
                harness.service.process_webhook(response.delivery)
        assert listener.kinds_for(invoice.provider_id) == ["partially_paid", "paid"]

    def test_create_retried_after_payment_does_not_hide_the_payment(
        self, harness: ContractHarness
    ) -> None:
        # The AMS retries a create (its job re-ran) after the member already paid: whatever the
        # retry returns, listeners must still hear "paid" exactly once.
        require_capability(harness, Capability.WEBHOOKS)
        listener = RecordingListener()
        harness.service.add_listener(listener)
        request = invoice_request(harness)
        key = unique("invoice")
        invoice = harness.service.create_invoice(request, idempotency_key=key)
        harness.driver.record_payment(invoice.provider_id, invoice.amount_due)
        harness.service.create_invoice(request, idempotency_key=key)
        for delivery in harness.driver.take_webhook_deliveries():
            response = harness.service.handle_webhook(delivery.body, delivery.headers)
            assert response.delivery is not None
            harness.service.process_webhook(response.delivery)
        assert listener.kinds_for(invoice.provider_id) == ["paid"]

    def test_a_late_older_state_never_moves_an_invoice_backwards(
        self, harness: ContractHarness
    ) -> None:
        # The full payment's delivery is processed first, the part payment's (OPEN) after it.
        require_capability(harness, Capability.WEBHOOKS)
        listener = RecordingListener()
        harness.service.add_listener(listener)
        invoice = unpaid_invoice(harness)
        harness.driver.take_webhook_deliveries()
        part = money(invoice.amount_due / 3, invoice.currency)
        harness.driver.record_payment(invoice.provider_id, part)
        partly = harness.driver.take_webhook_deliveries()
        harness.driver.record_payment(invoice.provider_id, invoice.amount_due - part)
        paid = harness.driver.take_webhook_deliveries()
        _process(harness, paid)
        _process(harness, partly)
        assert listener.kinds_for(invoice.provider_id) == ["paid"]
        tracked = harness.service.state_store.get(invoice.provider_id)
        assert tracked is not None
        assert (tracked.status, tracked.amount_paid) == (InvoiceStatus.PAID, invoice.total)

    def test_delivery_signed_within_the_tolerance_is_accepted(
        self, harness: ContractHarness
    ) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        signer, tolerance = require_signature_tolerance(harness)
        listener = RecordingListener()
        harness.service.add_listener(listener)
        invoice, _, paid = _paid_with_deliveries(harness)
        earlier = _signed_at(harness, paid) - tolerance / 2
        for delivery in paid:
            headers = signer.sign_webhook(delivery.body, at=earlier)
            response = harness.service.handle_webhook(delivery.body, headers)
            assert response.status == 200, response.reason
            assert response.delivery is not None
            harness.service.process_webhook(response.delivery)
        assert listener.kinds_for(invoice.provider_id) == ["paid"]

    def test_delivery_signed_before_the_tolerance_is_refused(
        self, harness: ContractHarness
    ) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        signer, tolerance = require_signature_tolerance(harness)
        listener = RecordingListener()
        harness.service.add_listener(listener)
        invoice, _, paid = _paid_with_deliveries(harness)
        now = _signed_at(harness, paid)
        delivery = paid[0]
        # The same body signed now verifies: only the time is wrong below.
        assert _parse(harness, attrs.evolve(delivery, headers=signer.sign_webhook(delivery.body)))
        old = signer.sign_webhook(delivery.body, at=now - tolerance * 2)
        with pytest.raises(WebhookVerificationError):
            _parse(harness, attrs.evolve(delivery, headers=old))
        response = harness.service.handle_webhook(delivery.body, old)
        assert (response.status, response.delivery) == (401, None)
        assert listener.kinds_for(invoice.provider_id) == []

    def test_replayed_delivery_is_not_processed_twice(self, harness: ContractHarness) -> None:
        # Two part payments, each delivery processed, then both replayed within the
        # tolerance: an attacker (or a retrying sender) must not make listeners hear them
        # again, nor the tracked state go back to the first payment.
        require_capability(harness, Capability.WEBHOOKS)
        require_signature_tolerance(harness)
        listener = RecordingListener()
        harness.service.add_listener(listener)
        invoice = unpaid_invoice(harness)
        harness.driver.take_webhook_deliveries()
        first = money(invoice.amount_due / 4, invoice.currency)
        second = money(invoice.amount_due / 4, invoice.currency)
        processed: list[SignedDelivery] = []
        for amount in (first, second):
            harness.driver.record_payment(invoice.provider_id, amount)
            batch = harness.driver.take_webhook_deliveries()
            _process(harness, batch)
            processed.extend(batch)
        assert listener.kinds_for(invoice.provider_id) == ["partially_paid", "partially_paid"]
        for delivery in processed:
            response = harness.service.handle_webhook(delivery.body, delivery.headers)
            if response.delivery is not None:  # refusing a replay outright is fine too
                harness.service.process_webhook(response.delivery)
        assert listener.kinds_for(invoice.provider_id) == ["partially_paid", "partially_paid"]
        tracked = harness.service.state_store.get(invoice.provider_id)
        assert tracked is not None
        assert tracked.amount_paid == first + second

    def test_snapshot_delivery_is_processed_without_a_read(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        require_snapshot_events(harness)
        faults = require_fault_injector(harness)
        listener = RecordingListener()
        harness.service.add_listener(listener)
        invoice, _, paid = _paid_with_deliveries(harness)
        # Every call to the provider would fail now: the deliveries' states must do.
        faults.fail_next(5, ProviderUnavailableError)
        _process(harness, paid)
        assert listener.kinds_for(invoice.provider_id) == ["paid"]
