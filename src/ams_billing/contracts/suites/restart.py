"""Contract: what a key did before a restart, it does not do again after one.

An AMS restarts on every deploy and runs several processes; the accounting system remembers an
``Idempotency-Key`` for minutes only. These tests create something (or have a delivery
acknowledged), restart the provider with the harness's ``restart`` (a new instance over the
same durable stores, the accounting system's key memory expired) and retry. A provider whose
ledger lives only in its process's memory bills, or emails, a second time here.

They run when the harness has a ``restart`` (see
:class:`~ams_billing.testing.harness.ContractHarness`) and skip, saying so, otherwise; the
lost-response tests also need the driver's
:class:`~ams_billing.testing.harness.FaultInjector`.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ams_billing.contracts.builders import (
    create_invoice,
    invoice_request,
    make_contact,
    unique,
    unpaid_invoice,
)
from ams_billing.contracts.capabilities import (
    require_capability,
    require_fault_injector,
    require_restart,
)
from ams_billing.contracts.case import ContractCase
from ams_billing.contracts.checks import (
    RecordingListener,
    check_conflict,
    invoices_with_reference,
)
from ams_billing.core.batch import BatchItem, BatchOutcome
from ams_billing.core.errors import IdempotencyConflictError, ProviderUnavailableError
from ams_billing.core.models import (
    Capability,
    ChangeKind,
    EmailSkipReason,
    Invoice,
    InvoiceRequest,
    InvoiceStatus,
)
from ams_billing.core.webhooks import DrainResult, drain_inbox
from ams_billing.stores import open_stores
from ams_billing.testing.harness import ContractHarness, EmailCounter

__all__ = ["RestartContract"]


def restart(harness: ContractHarness) -> None:
    """Restart the provider: the harness goes on with the new service."""
    harness.service = require_restart(harness)()


def lose_response(harness: ContractHarness, operation: str) -> None:
    """Have the next ``operation`` applied, and its response lost on the way back."""
    faults = require_fault_injector(harness)
    faults.fail_next(1, ProviderUnavailableError, operations=[operation], after_apply=True)


def assert_one_invoice(
    harness: ContractHarness, anchor: Invoice, request: InvoiceRequest, invoice_id: str
) -> None:
    """The books hold exactly one invoice with the request's reference: ``invoice_id``."""
    if Capability.CHANGED_SINCE not in harness.service.capabilities:
        return
    since = anchor.updated_at - timedelta(seconds=1)
    found = [i.provider_id for i in invoices_with_reference(harness, since, request.reference)]
    assert found == [invoice_id], (
        f"one idempotency key left {len(found)} invoices after a restart (duplicates): {found}"
    )


def assert_emailed_once(harness: ContractHarness, invoice: Invoice) -> None:
    """The provider really sent one email for the invoice (when the driver counts them)."""
    if isinstance(harness.driver, EmailCounter):
        sent = harness.driver.count_emails_sent(invoice.provider_id)
        assert sent == 1, f"one key sent {sent} emails across a restart (duplicates)"


class RestartContract(ContractCase):
    """Keys, and acknowledged webhook deliveries, across a restart of the provider."""

    def test_invoice_created_before_a_restart_is_not_billed_again(
        self, harness: ContractHarness
    ) -> None:
        require_restart(harness)
        anchor = create_invoice(harness)
        request = invoice_request(harness)
        key = unique("invoice")
        first = harness.service.create_invoice(request, idempotency_key=key)
        restart(harness)
        again = harness.service.create_invoice(request, idempotency_key=key)
        assert_one_invoice(harness, anchor, request, first.provider_id)
        assert again.provider_id == first.provider_id, "the key billed a duplicate after a restart"

    def test_lost_invoice_response_then_a_retry_after_a_restart_bills_once(
        self, harness: ContractHarness
    ) -> None:
        require_restart(harness)
        require_capability(harness, Capability.CHANGED_SINCE)
        anchor = create_invoice(harness)
        request = invoice_request(harness)
        key = unique("invoice")
        lose_response(harness, "create_invoice")
        with pytest.raises(ProviderUnavailableError):
            harness.service.create_invoice(request, idempotency_key=key)
        since = anchor.updated_at - timedelta(seconds=1)
        [created] = invoices_with_reference(harness, since, request.reference)
        restart(harness)
        retried = harness.service.create_invoice(request, idempotency_key=key)
        assert_one_invoice(harness, anchor, request, created.provider_id)
        assert retried.provider_id == created.provider_id
        assert retried.total == created.total

    def test_key_reused_after_a_restart_for_another_invoice_is_refused(
        self, harness: ContractHarness
    ) -> None:
        require_restart(harness)
        key = unique("invoice")
        create_invoice(harness, key=key)
        restart(harness)
        other = invoice_request(harness)
        try:
            created = harness.service.create_invoice(other, idempotency_key=key)
        except IdempotencyConflictError as error:
            check_conflict(error, key)  # as without a restart: the key sent, explained
            return
        pytest.fail(
            "after a restart a key used for one invoice billed another one (a duplicate for the "
            f"key, {created.provider_id}) instead of raising IdempotencyConflictError"
        )

    def test_batch_retried_after_a_restart_creates_nothing_twice(
        self, harness: ContractHarness
    ) -> None:
        require_restart(harness)
        anchor = create_invoice(harness)
        items = [BatchItem(invoice_request(harness), unique("invoice")) for _ in range(3)]
        first = harness.service.create_invoices(items)
        assert [r.outcome for r in first] == [BatchOutcome.CREATED] * 3
        restart(harness)
        again = harness.service.create_invoices(items)
        ids = [r.result.provider_id for r in first if r.result is not None]
        for item, invoice_id in zip(items, ids, strict=True):
            assert_one_invoice(harness, anchor, item.request, invoice_id)
        assert [r.result.provider_id for r in again if r.result is not None] == ids
        assert [r.outcome for r in again] == [BatchOutcome.EXISTING] * 3

    def test_contact_created_before_a_restart_is_kept_once(self, harness: ContractHarness) -> None:
        require_restart(harness)
        contact = make_contact()
        key = unique("contact")
        first = harness.service.create_contact(contact, idempotency_key=key)
        restart(harness)
        again = harness.service.create_contact(contact, idempotency_key=key)
        assert again.provider_id == first.provider_id, "the key made a second contact"
        assert (again.account_reference, again.name) == (contact.account_reference, contact.name)

    def test_lost_contact_response_then_a_retry_after_a_restart_keeps_one_contact(
        self, harness: ContractHarness
    ) -> None:
        require_restart(harness)
        contact = make_contact()
        key = unique("contact")
        lose_response(harness, "create_contact")
        with pytest.raises(ProviderUnavailableError):
            harness.service.create_contact(contact, idempotency_key=key)
        restart(harness)
        retried = harness.service.create_contact(contact, idempotency_key=key)
        # A fresh key for the same account reference finds the contact there is: exactly one.
        fresh = harness.service.create_contact(contact, idempotency_key=unique("contact"))
        assert fresh.provider_id == retried.provider_id, "the retry made a duplicate contact"
        assert (retried.account_reference, retried.email) == (
            contact.account_reference,
            contact.email,
        )

    def test_email_sent_before_a_restart_is_not_sent_again(self, harness: ContractHarness) -> None:
        require_restart(harness)
        require_capability(harness, Capability.SEND_INVOICE)
        invoice = unpaid_invoice(harness)
        first = harness.service.send_invoice(invoice)
        assert first.sent
        restart(harness)
        again = harness.service.send_invoice(invoice)
        assert_emailed_once(harness, invoice)
        assert (again.invoice_id, again.sent) == (invoice.provider_id, True)
        assert again == first, "after a restart the key answered another result (its recipient?)"

    def test_email_skipped_before_a_restart_is_skipped_again(
        self, harness: ContractHarness
    ) -> None:
        require_restart(harness)
        require_capability(harness, Capability.SEND_INVOICE)
        invoice = unpaid_invoice(harness, email=None)
        key = unique("email")
        first = harness.service.send_invoice(invoice, idempotency_key=key)
        restart(harness)
        again = harness.service.send_invoice(invoice, idempotency_key=key)
        assert again == first
        assert (again.sent, again.skipped_reason) == (False, EmailSkipReason.NO_RECIPIENT)

    def test_lost_email_response_then_a_retry_after_a_restart_emails_once(
        self, harness: ContractHarness
    ) -> None:
        require_restart(harness)
        require_capability(harness, Capability.SEND_INVOICE)
        invoice = unpaid_invoice(harness)
        key = unique("email")
        lose_response(harness, "send_invoice")
        with pytest.raises(ProviderUnavailableError):
            harness.service.send_invoice(invoice, idempotency_key=key)
        restart(harness)
        result = harness.service.send_invoice(invoice, idempotency_key=key)
        assert_emailed_once(harness, invoice)
        assert (result.invoice_id, result.sent) == (invoice.provider_id, True)

    def test_acknowledged_delivery_is_processed_after_a_restart(
        self, harness: ContractHarness, tmp_path: Path
    ) -> None:
        require_restart(harness)
        require_capability(harness, Capability.WEBHOOKS)
        database = f"sqlite:///{tmp_path / 'inbox.sqlite3'}"
        harness.driver.take_webhook_deliveries()  # whatever came before is not this test's
        invoice = unpaid_invoice(harness)
        before = RecordingListener()
        harness.service.add_listener(before)
        harness.driver.record_payment(invoice.provider_id, invoice.amount_due)
        deliveries = harness.driver.take_webhook_deliveries()
        assert deliveries, "the driver produced no webhook delivery after a payment"
        with open_stores(database) as stores:
            for delivery in deliveries:
                response = harness.service.handle_webhook(delivery.body, delivery.headers)
                assert response.status == 200
                assert response.delivery is not None
                # Kept in the inbox before the 200 goes back, as BackgroundProcessor.submit does.
                stores.inbox.add(response.delivery)
        restart(harness)  # ... after the 200 and before any worker processed the delivery
        after = RecordingListener()
        harness.service.add_listener(after)
        with open_stores(database) as stores:
            drained = drain_inbox(harness.service, stores.inbox)
            left = stores.inbox.pending()
        assert drained == DrainResult(processed=len(deliveries), failed=0)
        assert left == 0
        assert before.changes == []
        assert after.kinds_for(invoice.provider_id) == ["paid"]
        [change] = [c for c in after.changes if c.invoice.provider_id == invoice.provider_id]
        assert change.invoice.status is InvoiceStatus.PAID
        assert change.invoice.amount_due == 0
        # As without a restart: the service remembers the invoice was OPEN and unpaid.
        forgot = "the restarted service forgot the invoice's last state (its state store was lost)"
        assert change.kind is ChangeKind.PAID
        assert change.previous_status is InvoiceStatus.OPEN, forgot
        assert change.previous_amount_paid == Decimal(0), forgot
