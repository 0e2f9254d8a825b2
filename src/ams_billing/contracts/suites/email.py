"""Contract: ``send_invoice`` emails the contact once per key, and policies can skip it."""

from __future__ import annotations

import uuid

import attrs
import pytest

from ams_billing.contracts.builders import invoice_request, unique, unpaid_invoice
from ams_billing.contracts.capabilities import (
    require_capability,
    require_draft_maker,
    require_email_counter,
    require_fault_injector,
)
from ams_billing.contracts.case import ContractCase
from ams_billing.core.errors import InvalidStateError, NotFoundError, ProviderUnavailableError
from ams_billing.core.models import Capability, EmailSkipReason, InvoiceStatus
from ams_billing.core.service import BillingService
from ams_billing.testing.harness import ContractHarness

__all__ = ["EmailContract"]

WHITELIST = r"@allowed\.example$"


class EmailContract(ContractCase):
    """``send_invoice``: recipient, idempotency, refused states, the whitelist policy."""

    def test_invoice_is_emailed_to_its_contact(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.SEND_INVOICE)
        invoice = unpaid_invoice(harness, email="member@example.org")
        result = harness.service.send_invoice(invoice, idempotency_key=unique("email"))
        assert result.sent
        assert result.recipient == "member@example.org"
        assert result.invoice_id == invoice.provider_id
        assert result.skipped_reason is None

    def test_invoice_can_be_emailed_by_id(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.SEND_INVOICE)
        invoice = unpaid_invoice(harness)
        result = harness.service.send_invoice(invoice.provider_id)
        assert (result.sent, result.invoice_id) == (True, invoice.provider_id)

    def test_repeat_with_the_same_key_returns_the_first_result(
        self, harness: ContractHarness
    ) -> None:
        require_capability(harness, Capability.SEND_INVOICE)
        invoice = unpaid_invoice(harness)
        key = unique("email")
        first = harness.service.send_invoice(invoice, idempotency_key=key)
        again = harness.service.send_invoice(invoice, idempotency_key=key)
        assert again == first
        # The default key is derived from the invoice: one invoice, one email.
        assert harness.service.send_invoice(invoice) == harness.service.send_invoice(invoice)

    def test_contact_without_email_is_skipped(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.SEND_INVOICE)
        invoice = unpaid_invoice(harness, email=None)
        result = harness.service.send_invoice(invoice, idempotency_key=unique("email"))
        assert (result.sent, result.skipped_reason) == (False, EmailSkipReason.NO_RECIPIENT)

    def test_voided_invoice_cannot_be_emailed(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.SEND_INVOICE)
        require_capability(harness, Capability.VOID_INVOICE)
        invoice = unpaid_invoice(harness)
        voided = harness.service.void_invoice(invoice.provider_id)
        with pytest.raises(InvalidStateError):
            harness.service.send_invoice(voided, idempotency_key=unique("email"))

    def test_paid_invoice_can_be_emailed(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.SEND_INVOICE)
        invoice = unpaid_invoice(harness)
        harness.driver.record_payment(invoice.provider_id, invoice.amount_due)
        result = harness.service.send_invoice(invoice.provider_id)
        assert result.sent

    def test_one_key_sends_one_email(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.SEND_INVOICE)
        counter = require_email_counter(harness)
        invoice = unpaid_invoice(harness)
        key = unique("email")
        for _ in range(3):
            harness.service.send_invoice(invoice, idempotency_key=key)
        assert counter.count_emails_sent(invoice.provider_id) == 1
        # Another key is another email; its repeats are not.
        other = unique("email")
        for _ in range(2):
            harness.service.send_invoice(invoice.provider_id, idempotency_key=other)
        assert counter.count_emails_sent(invoice.provider_id) == 2

    def test_lost_email_response_then_retry_sends_one_email(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.SEND_INVOICE)
        counter = require_email_counter(harness)
        faults = require_fault_injector(harness)
        invoice = unpaid_invoice(harness)
        key = unique("email")
        faults.fail_next(1, ProviderUnavailableError, operations=["send_invoice"], after_apply=True)
        with pytest.raises(ProviderUnavailableError):
            harness.service.send_invoice(invoice, idempotency_key=key)
        assert counter.count_emails_sent(invoice.provider_id) == 1
        for _ in range(2):
            result = harness.service.send_invoice(invoice, idempotency_key=key)
            assert (result.invoice_id, result.sent) == (invoice.provider_id, True)
        assert counter.count_emails_sent(invoice.provider_id) == 1

    def test_email_of_an_unknown_invoice_raises_not_found(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.SEND_INVOICE)
        invoice = unpaid_invoice(harness)
        ghost = attrs.evolve(invoice, provider_id=str(uuid.uuid4()))
        with pytest.raises(NotFoundError) as raised:
            harness.service.send_invoice(ghost, idempotency_key=unique("email"))
        assert raised.value.resource_id == ghost.provider_id

    def test_draft_invoice_cannot_be_emailed(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.SEND_INVOICE)
        draft = require_draft_maker(harness).create_draft_invoice(invoice_request(harness))
        assert draft.status is InvoiceStatus.DRAFT
        with pytest.raises(InvalidStateError):
            harness.service.send_invoice(draft, idempotency_key=unique("email"))

    def test_whitelist_policy_skips_other_recipients(self, harness: ContractHarness) -> None:
        guarded = BillingService(harness.service.provider, email_whitelist=WHITELIST)
        invoice = unpaid_invoice(harness, email="member@elsewhere.example")
        result = guarded.send_invoice(invoice, idempotency_key=unique("email"))
        assert (result.sent, result.skipped_reason) == (
            False,
            EmailSkipReason.RECIPIENT_NOT_WHITELISTED,
        )
        assert result.recipient == "member@elsewhere.example"

    def test_whitelist_policy_lets_matching_recipients_through(
        self, harness: ContractHarness
    ) -> None:
        require_capability(harness, Capability.SEND_INVOICE)
        guarded = BillingService(harness.service.provider, email_whitelist=WHITELIST)
        invoice = unpaid_invoice(harness, email="member@allowed.example")
        result = guarded.send_invoice(invoice, idempotency_key=unique("email"))
        assert (result.sent, result.recipient) == (True, "member@allowed.example")

    def test_switched_off_emails_are_skipped(self, harness: ContractHarness) -> None:
        quiet = BillingService(harness.service.provider, email_invoices=False)
        invoice = unpaid_invoice(harness)
        result = quiet.send_invoice(invoice, idempotency_key=unique("email"))
        assert (result.sent, result.skipped_reason) == (False, EmailSkipReason.EMAILS_DISABLED)
