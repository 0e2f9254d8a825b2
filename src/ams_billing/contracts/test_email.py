"""Contract: ``send_invoice`` emails the contact once per key, and policies can skip it."""

from __future__ import annotations

import pytest

from ams_billing.contracts.builders import unique, unpaid_invoice
from ams_billing.contracts.capabilities import require_capability
from ams_billing.contracts.case import CommandLineProvider, ContractCase
from ams_billing.contracts.harness import ContractHarness
from ams_billing.core.errors import InvalidStateError
from ams_billing.core.models import Capability, EmailSkipReason
from ams_billing.core.service import BillingService

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


class TestEmail(EmailContract, CommandLineProvider):
    """The email contract for the provider named by ``--billing-provider``."""
