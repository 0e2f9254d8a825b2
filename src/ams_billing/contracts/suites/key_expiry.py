"""Contract: a retry in the same process, after the system forgot the key, still bills once.

The accounting system remembers an idempotency key for minutes (Xero: about six); a provider
that resends a write whose answer was lost, trusting the system to recognise the key, bills (or
emails) a second time once that window has passed. The restart tests cover the window passing
during a restart; these cover it passing while the same provider instance keeps running, with
its ledger as it was: a job that retries after a long backoff, a worker that keeps a failed
create for later. The harness's ``expire_remote_keys`` makes the system forget its keys between
the first call and the retry (for Xero: the emulator's clock, which the provider also reads,
moves past the window, so the client's own limit on resending, 300 s after the first send, has
passed too).

They run when the harness has an ``expire_remote_keys`` (see
:class:`~ams_billing.testing.harness.ContractHarness`) and skip, saying so, otherwise; the
lost-response tests also need the driver's
:class:`~ams_billing.testing.harness.FaultInjector`, and the email counts its
:class:`~ams_billing.testing.harness.EmailCounter`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ams_billing.contracts.builders import (
    create_invoice,
    invoice_request,
    unique,
    unpaid_invoice,
)
from ams_billing.contracts.capabilities import (
    require_capability,
    require_email_counter,
    require_fault_injector,
    require_key_expiry,
)
from ams_billing.contracts.case import ContractCase
from ams_billing.contracts.checks import invoices_with_reference
from ams_billing.contracts.suites.bulk import require_native_bulk
from ams_billing.core.batch import BatchItem, BatchOutcome
from ams_billing.core.errors import ProviderUnavailableError
from ams_billing.core.models import Capability, Invoice, InvoiceRequest
from ams_billing.testing.harness import ContractHarness

__all__ = ["KeyExpiryContract"]


def lose_response(harness: ContractHarness, operation: str) -> None:
    """Have the next ``operation`` applied, and its response lost on the way back."""
    faults = require_fault_injector(harness)
    faults.fail_next(1, ProviderUnavailableError, operations=[operation], after_apply=True)


def made_with_reference(
    harness: ContractHarness, anchor: Invoice, reference: str | None
) -> list[str]:
    """The ids of the invoices in the books with ``reference``, made since ``anchor``."""
    since = anchor.updated_at - timedelta(seconds=1)
    return [i.provider_id for i in invoices_with_reference(harness, since, reference)]


def assert_one_invoice(
    harness: ContractHarness, anchor: Invoice, request: InvoiceRequest, invoice_id: str
) -> None:
    """The books hold exactly one invoice with the request's reference: ``invoice_id``."""
    found = made_with_reference(harness, anchor, request.reference)
    assert found == [invoice_id], (
        f"one idempotency key left {len(found)} invoices once the accounting system had "
        f"forgotten it, without a restart (duplicates): {found}"
    )


class KeyExpiryContract(ContractCase):
    """Keys retried by the same provider instance after the system's key window passed."""

    def test_invoice_retried_after_the_system_forgot_its_key_is_not_billed_again(
        self, harness: ContractHarness
    ) -> None:
        expire = require_key_expiry(harness)
        anchor = create_invoice(harness)
        request = invoice_request(harness)
        key = unique("invoice")
        first = harness.service.create_invoice(request, idempotency_key=key)
        expire()
        again = harness.service.create_invoice(request, idempotency_key=key)
        assert again.provider_id == first.provider_id, (
            "the key billed a duplicate once the accounting system had forgotten it"
        )
        if Capability.CHANGED_SINCE in harness.service.capabilities:
            assert_one_invoice(harness, anchor, request, first.provider_id)

    def test_lost_invoice_response_then_a_retry_after_the_system_forgot_its_key_bills_once(
        self, harness: ContractHarness
    ) -> None:
        expire = require_key_expiry(harness)
        require_capability(harness, Capability.CHANGED_SINCE)
        anchor = create_invoice(harness)
        request = invoice_request(harness)
        key = unique("invoice")
        lose_response(harness, "create_invoice")
        with pytest.raises(ProviderUnavailableError):
            harness.service.create_invoice(request, idempotency_key=key)
        [created] = made_with_reference(harness, anchor, request.reference)
        expire()
        retried = harness.service.create_invoice(request, idempotency_key=key)
        assert_one_invoice(harness, anchor, request, created)
        assert retried.provider_id == created
        again = harness.service.create_invoice(request, idempotency_key=key)
        assert again.provider_id == created, "a second retry answered another invoice"
        assert_one_invoice(harness, anchor, request, created)

    def test_lost_batch_response_then_a_retry_after_the_system_forgot_its_keys_bills_once(
        self, harness: ContractHarness
    ) -> None:
        expire = require_key_expiry(harness)
        require_fault_injector(harness)
        require_native_bulk(harness)
        require_capability(harness, Capability.CHANGED_SINCE)
        anchor = create_invoice(harness)
        items = [BatchItem(invoice_request(harness), unique("invoice")) for _ in range(3)]
        lose_response(harness, "create_invoices")
        lost = harness.service.create_invoices(items)
        assert all(isinstance(r.error, ProviderUnavailableError) for r in lost)
        made = [made_with_reference(harness, anchor, i.request.reference) for i in items]
        assert all(len(ids) == 1 for ids in made), f"the lost batch made {made}"
        expire()
        retried = harness.service.create_invoices(items)
        assert [r.outcome for r in retried] == [BatchOutcome.EXISTING] * 3
        for item, [created], result in zip(items, made, retried, strict=True):
            assert result.unwrap().provider_id == created
            assert_one_invoice(harness, anchor, item.request, created)

    def test_email_sent_before_the_system_forgot_its_key_is_not_sent_again(
        self, harness: ContractHarness
    ) -> None:
        expire = require_key_expiry(harness)
        require_capability(harness, Capability.SEND_INVOICE)
        counter = require_email_counter(harness)
        invoice = unpaid_invoice(harness)
        key = unique("email")
        first = harness.service.send_invoice(invoice, idempotency_key=key)
        assert first.sent
        expire()
        again = harness.service.send_invoice(invoice, idempotency_key=key)
        sent = counter.count_emails_sent(invoice.provider_id)
        assert sent == 1, (
            f"one key sent {sent} emails once the accounting system had forgotten it (duplicates)"
        )
        assert again == first

    def test_lost_email_response_then_a_retry_after_the_system_forgot_its_key_emails_once(
        self, harness: ContractHarness
    ) -> None:
        expire = require_key_expiry(harness)
        require_capability(harness, Capability.SEND_INVOICE)
        counter = require_email_counter(harness)
        invoice = unpaid_invoice(harness)
        key = unique("email")
        lose_response(harness, "send_invoice")
        with pytest.raises(ProviderUnavailableError):
            harness.service.send_invoice(invoice, idempotency_key=key)
        assert counter.count_emails_sent(invoice.provider_id) == 1, "the lost send sent nothing"
        expire()
        result = harness.service.send_invoice(invoice, idempotency_key=key)
        again = harness.service.send_invoice(invoice, idempotency_key=key)
        sent = counter.count_emails_sent(invoice.provider_id)
        assert sent == 1, (
            f"one key sent {sent} emails after its response was lost and the accounting system "
            "had forgotten the key, without a restart (duplicates)"
        )
        assert (result.invoice_id, result.sent) == (invoice.provider_id, True)
        assert again == result
