"""Deliberately broken providers: the fake with one defect each, to prove the suite has teeth.

Each class overrides one hook of :class:`FakeBillingService` (re-marked with ``@hookimpl``, as a
subclass must) or one driver method. ``BROKEN`` maps each to the contract tests that must fail.
Not a test module: ``test_contract_teeth.py`` copies it next to a generated test file.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs

from ams_billing import (
    AmountType,
    Invoice,
    InvoiceRequest,
    InvoiceStatus,
    WebhookDelivery,
    WebhookVerificationError,
    hookimpl,
)
from ams_billing.core.money import quantize
from ams_billing.providers.fake import FakeBillingService
from ams_billing.providers.fake.wire import decode_delivery


class DuplicatesOnRetry(FakeBillingService):
    """Ignores the idempotency key: every retry raises a new invoice."""

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        return super().create_invoice(request, f"{idempotency_key}#{uuid.uuid4()}")


class QuietlyDuplicatesOnRetry(FakeBillingService):
    """Answers a retry with the first invoice, but raises a second one behind the caller's back."""

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        if idempotency_key in self._idempotency:
            super().create_invoice(request, f"{idempotency_key}#{uuid.uuid4()}")
        return super().create_invoice(request, idempotency_key)


class IgnoresKeyConflicts(FakeBillingService):
    """Answers a reused key with the first invoice even when the request differs."""

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        stored = self._idempotency.get(idempotency_key)
        if stored is not None:
            return self._invoices[str(stored[2])]
        return super().create_invoice(request, idempotency_key)


class TaxesTheTotal(FakeBillingService):
    """Computes the invoice's tax once on its total instead of per line (a cent out at times)."""

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        invoice = super().create_invoice(request, idempotency_key)
        if invoice.amount_type is AmountType.NO_TAX:
            return invoice
        rate = self.accounts[request.account_code or self.default_account_code]
        line_sum = sum((line.line_amount for line in invoice.line_items), Decimal(0))
        if invoice.amount_type is AmountType.INCLUSIVE:
            tax = quantize(line_sum * rate / (1 + rate), 2)
            subtotal, total = line_sum - tax, line_sum
        else:
            tax = quantize(line_sum * rate, 2)
            subtotal, total = line_sum, line_sum + tax
        taxed = attrs.evolve(
            invoice, subtotal=subtotal, total_tax=tax, total=total, amount_due=total
        )
        self._invoices[invoice.provider_id] = taxed
        return taxed


class CentOut(FakeBillingService):
    """Adds a cent to every new invoice (subtotal and total, so it adds up on its face)."""

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        replay = idempotency_key in self._idempotency
        invoice = super().create_invoice(request, idempotency_key)
        if replay:
            return invoice
        cent = Decimal("0.01")
        padded = attrs.evolve(
            invoice,
            subtotal=invoice.subtotal + cent,
            total=invoice.total + cent,
            amount_due=invoice.amount_due + cent,
        )
        self._invoices[invoice.provider_id] = padded
        return padded


class TrustsAnySignature(FakeBillingService):
    """Parses a delivery whose signature is wrong or missing instead of refusing it."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        try:
            return super().parse_webhook(body, headers)
        except WebhookVerificationError:
            parsed = decode_delivery(body)
            return WebhookDelivery(parsed.events, parsed.first_sequence, parsed.last_sequence)


class ServesStaleReads(FakeBillingService):
    """Every other read answers from a lagging replica: the state before the last payment,
    stamped as new. A PAID invoice moves back to AUTHORISED and listeners hear it twice."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._before_payment: dict[str, Invoice] = {}
        self._reads = 0

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        before = self._invoice(invoice_id)
        super().record_payment(invoice_id, amount)
        self._before_payment[invoice_id] = before

    @hookimpl
    def get_invoices(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        current = super().get_invoices(invoice_ids)
        self._reads += 1
        if self._reads % 2:
            return current
        return [
            attrs.evolve(stale, updated_at=self._clock.tick())
            if (stale := self._before_payment.get(invoice.provider_id)) is not None
            else invoice
            for invoice in current
        ]


class VoidsPaidInvoices(FakeBillingService):
    """Voids invoices that have payments, which Xero refuses."""

    @hookimpl
    def void_invoice(self, invoice_id: str) -> Invoice:
        invoice = self._invoice(invoice_id)
        if invoice.status is InvoiceStatus.VOIDED:
            return invoice
        return self._update(invoice, status=InvoiceStatus.VOIDED, amount_due=Decimal(0))


BROKEN: dict[type[FakeBillingService], set[str]] = {
    DuplicatesOnRetry: {
        "test_retry_with_the_same_key_returns_the_same_invoice",
        "test_retry_with_the_same_key_creates_no_second_invoice",
        "test_same_key_for_another_request_conflicts",
        "test_lost_response_then_retry_returns_the_first_invoice",
        "test_provider_behaves_like_the_fake",
    },
    QuietlyDuplicatesOnRetry: {
        "test_retry_with_the_same_key_creates_no_second_invoice",
        "test_lost_response_then_retry_returns_the_first_invoice",
        "test_provider_behaves_like_the_fake",
    },
    IgnoresKeyConflicts: {
        "test_same_key_for_another_request_conflicts",
        "test_provider_behaves_like_the_fake",
    },
    TaxesTheTotal: {
        "test_tax_is_computed_and_rounded_per_line[INCLUSIVE]",
        "test_tax_is_computed_and_rounded_per_line[EXCLUSIVE]",
        "test_generated_invoices_have_xero_totals",
        "test_provider_behaves_like_the_fake",
    },
    CentOut: {
        "test_invoice_is_authorised_with_consistent_totals",
        "test_generated_invoices_have_xero_totals",
        "test_provider_behaves_like_the_fake",
    },
    TrustsAnySignature: {
        "test_tampered_body_is_refused[reformatted-body]",
        "test_tampered_body_is_refused[changed-body]",
        "test_signature_of_another_delivery_is_refused",
        "test_corrupted_signature_is_refused",
        "test_absent_signature_is_refused",
        "test_handle_webhook_answers_200_or_401",
        "test_provider_behaves_like_the_fake",
    },
    ServesStaleReads: {
        "test_listener_hears_paid_once_despite_duplicates_and_reordering",
        "test_provider_behaves_like_the_fake",
    },
    VoidsPaidInvoices: {
        "test_void_with_a_payment_is_refused",
        "test_void_of_a_paid_invoice_is_refused",
        "test_provider_behaves_like_the_fake",
    },
}
"""Each broken provider and the contract tests (names with parameters) that must fail for it."""
