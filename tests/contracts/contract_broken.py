"""Deliberately broken providers: the fake with one defect each, to prove the suite has teeth.

Each class overrides one hook of :class:`FakeProvider` (re-marked with ``@hookimpl``, as a
subclass must) or one of its internals. ``BROKEN`` maps each to the contract tests that must fail.
Not a test module: ``test_contract_teeth.py`` copies it next to a generated test file.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import attrs

from ams_billing import (
    AmountType,
    AuthenticationError,
    Contact,
    ContactRecord,
    FieldError,
    IdempotencyConflictError,
    Invoice,
    InvoiceEmailResult,
    InvoiceRequest,
    InvoiceStatus,
    NotFoundError,
    ProviderUnavailableError,
    ValidationError,
    WebhookDelivery,
    WebhookVerificationError,
    hookimpl,
)
from ams_billing.core import totals
from ams_billing.core.ledger import IdempotencyRecord
from ams_billing.core.money import currency_places, quantize
from ams_billing.core.signing import header_value, sign_body
from ams_billing.providers.fake import SIGNATURE_HEADER, FakeProvider
from ams_billing.providers.fake.wire import decode_delivery


class DuplicatesOnRetry(FakeProvider):
    """Ignores the idempotency key: every retry raises a new invoice."""

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        return super().create_invoice(request, f"{idempotency_key}#{uuid.uuid4()}")


class QuietlyDuplicatesOnRetry(FakeProvider):
    """Answers a retry with the first invoice, but raises a second one behind the caller's back."""

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        if idempotency_key in self._idempotency:
            super().create_invoice(request, f"{idempotency_key}#{uuid.uuid4()}")
        return super().create_invoice(request, idempotency_key)


class IgnoresKeyConflicts(FakeProvider):
    """Answers a reused key with the first invoice even when the request differs."""

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        stored = self._idempotency.get(idempotency_key)
        if stored is not None:
            return self._invoices[str(stored[2])]
        return super().create_invoice(request, idempotency_key)


class TaxesTheTotal(FakeProvider):
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


class CentOut(FakeProvider):
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


class TrustsAnySignature(FakeProvider):
    """Parses a delivery whose signature is wrong or missing instead of refusing it."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        try:
            return super().parse_webhook(body, headers)
        except WebhookVerificationError:
            parsed = decode_delivery(body)
            return WebhookDelivery(parsed.events, parsed.first_sequence, parsed.last_sequence)


class ServesStaleReads(FakeProvider):
    """Every other read answers from a lagging replica: the state before the last payment,
    stamped as new. A PAID invoice moves back to AUTHORISED and listeners hear it twice."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._before_payment: dict[str, Invoice] = {}
        self._reads = 0

    def _update(self, invoice: Invoice, **changes: Any) -> Invoice:
        if "amount_paid" in changes:  # a payment (the driver's record_payment)
            self._before_payment[invoice.provider_id] = invoice
        return super()._update(invoice, **changes)

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


class VoidsPaidInvoices(FakeProvider):
    """Voids invoices that have payments, which Xero refuses."""

    @hookimpl
    def void_invoice(self, invoice_id: str) -> Invoice:
        invoice = self._invoice(invoice_id)
        if invoice.status is InvoiceStatus.VOID:
            return invoice
        return self._update(invoice, status=InvoiceStatus.VOID, amount_due=Decimal(0))


class BillsInTheFirstCurrency(FakeProvider):
    """Raises every invoice in NZD, whatever currency the request names."""

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        return super().create_invoice(attrs.evolve(request, currency="NZD"), idempotency_key)


class RoundsTaxTiesToEven(FakeProvider):
    """Rounds a line's tax half to even (banker's rounding), not half away from zero."""

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        invoice = super().create_invoice(request, idempotency_key)
        if invoice.amount_type is not AmountType.EXCLUSIVE:
            return invoice
        rate = self.accounts[request.account_code or self.default_account_code]
        place = Decimal(1).scaleb(-currency_places(invoice.currency))
        lines = tuple(
            attrs.evolve(
                line,
                tax_amount=(line.line_amount * rate).quantize(place, rounding=ROUND_HALF_EVEN),
            )
            for line in invoice.line_items
        )
        sums = totals.compute_totals(lines, invoice.amount_type)
        evened = attrs.evolve(
            invoice,
            line_items=lines,
            subtotal=sums.subtotal,
            total_tax=sums.total_tax,
            total=sums.total,
            amount_due=sums.total,
        )
        self._invoices[invoice.provider_id] = evened
        return evened


class KeysIgnoreCase(FakeProvider):
    """Compares idempotency keys without their case."""

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        return super().create_invoice(request, idempotency_key.lower())


class ConflictIgnoresTheReference(FakeProvider):
    """Replays a key whose request differs from the first only in its reference."""

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        stored = self._idempotency.get(idempotency_key)
        if stored is not None and isinstance(stored[1], InvoiceRequest):
            request = attrs.evolve(request, reference=stored[1].reference)
        return super().create_invoice(request, idempotency_key)


class KeepsAClearedEmail(FakeProvider):
    """Treats an absent email as "no change": a contact's email can never be cleared."""

    @hookimpl
    def create_contact(self, contact: Contact, idempotency_key: str) -> ContactRecord:
        existing = self._contacts.get(contact.account_reference)
        if contact.email is None and existing is not None:
            contact = attrs.evolve(contact, email=existing.email)
        return super().create_contact(contact, idempotency_key)


class ContactReplayAppliesAgain(FakeProvider):
    """Forgets contact keys: a replay writes the first contact again over a later update."""

    @hookimpl
    def create_contact(self, contact: Contact, idempotency_key: str) -> ContactRecord:
        self._idempotency.pop(idempotency_key, None)
        self.ledger.delete(self._ledger_key(idempotency_key))
        return super().create_contact(contact, idempotency_key)


class EmailsAgainOnReplay(FakeProvider):
    """Answers a repeated key with the first result, but sends the email again."""

    @hookimpl
    def send_invoice(self, invoice: Invoice, idempotency_key: str) -> InvoiceEmailResult:
        replay = idempotency_key in self._idempotency
        result = super().send_invoice(invoice, idempotency_key)
        if replay and result.sent:
            self._emails.append(result)
        return result


class EmailsUnknownInvoices(FakeProvider):
    """Reports an email to an invoice it does not hold as sent."""

    @hookimpl
    def send_invoice(self, invoice: Invoice, idempotency_key: str) -> InvoiceEmailResult:
        if invoice.provider_id not in self._invoices:
            return InvoiceEmailResult(invoice.provider_id, sent=True, recipient="x@example.org")
        return super().send_invoice(invoice, idempotency_key)


class DraftsHaveOnlineUrls(FakeProvider):
    """Gives a DRAFT invoice a pay page."""

    @hookimpl
    def get_invoice_url(self, invoice_id: str) -> str:
        self._invoice(invoice_id)
        return f"{self.base_url}/pay/{invoice_id}"


def _with_signature(headers: Mapping[str, str], signature: str) -> dict[str, str]:
    return {**headers, SIGNATURE_HEADER: signature}


class SignatureIgnoresCase(FakeProvider):
    """Compares the signature without its case."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        given = header_value(headers, SIGNATURE_HEADER)
        expected = sign_body(body, self._webhook_key)
        if given is not None and given.lower() == expected.lower():
            headers = _with_signature(headers, expected)
        return super().parse_webhook(body, headers)


class AcceptsACutSignature(FakeProvider):
    """Accepts any beginning of the signature (a comparison over the shorter length)."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        given = header_value(headers, SIGNATURE_HEADER)
        expected = sign_body(body, self._webhook_key)
        if given and expected.startswith(given):
            headers = _with_signature(headers, expected)
        return super().parse_webhook(body, headers)


class ParsesBeforeVerifying(FakeProvider):
    """Parses the body before checking its signature."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        decode_delivery(body)
        return super().parse_webhook(body, headers)


class RefusesSignedGarbageAsUnverified(FakeProvider):
    """Answers a genuine delivery it cannot parse as unverified: a 401, so it is sent again."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        try:
            return super().parse_webhook(body, headers)
        except ValidationError as error:
            raise WebhookVerificationError(str(error)) from None


class KeepsFirstInvoiceOfADelivery(FakeProvider):
    """Keeps only the events about the first invoice a delivery names."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        delivery = super().parse_webhook(body, headers)
        first = delivery.invoice_ids[:1]
        events = tuple(e for e in delivery.events if e.resource_id in first)
        return attrs.evolve(delivery, events=events)


class KeepsOtherTenantsEvents(FakeProvider):
    """Parses every event of a verified delivery, whichever tenant it is for."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        super().parse_webhook(body, headers)  # verifies
        parsed = decode_delivery(body)
        return WebhookDelivery(parsed.events, parsed.first_sequence, parsed.last_sequence)


class ReadsWhileParsing(FakeProvider):
    """Reads the invoices a delivery names while parsing it: a call to the provider."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        delivery = super().parse_webhook(body, headers)
        self.get_invoices(delivery.invoice_ids)
        return delivery


class NoDeliveryForPartPayments(FakeProvider):
    """Sends a webhook when an invoice is paid in full, but none for a part payment."""

    def _update(self, invoice: Invoice, **changes: Any) -> Invoice:
        updated = super()._update(invoice, **changes)
        if "amount_paid" in changes and updated.status is not InvoiceStatus.PAID:
            self._pending_events.pop()  # the payment's event
        return updated


class ReadsSinceAsUTC(FakeProvider):
    """Reads the changed-since time's wall clock as UTC, dropping its offset."""

    @hookimpl
    def get_invoices_changed_since(self, since: datetime) -> list[Invoice]:
        return super().get_invoices_changed_since(since.replace(tzinfo=UTC))


class TrimsTheSignature(FakeProvider):
    """Strips whitespace around the signature before comparing it (a suffix, all the same)."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        given = header_value(headers, SIGNATURE_HEADER)
        if given is not None:
            headers = _with_signature(headers, given.strip())
        return super().parse_webhook(body, headers)


class ConflictNamesAnotherKey(FakeProvider):
    """Raises the conflict, but carrying the operation's name instead of the key sent."""

    def _keyed(self, operation: str, key: str, request: Any) -> tuple[Any, bool]:
        try:
            return super()._keyed(operation, key, request)
        except IdempotencyConflictError:
            raise IdempotencyConflictError(operation) from None


class LedgerConflictNamesItsOwnKey(FakeProvider):
    """After a restart, refuses a reused key carrying the ledger's namespaced key, not the key sent.

    The books have forgotten the key by then, so only the client's ledger can tell the conflict.
    """

    def _keyed(self, operation: str, key: str, request: Any) -> tuple[Any, bool]:
        try:
            return super()._keyed(operation, key, request)
        except IdempotencyConflictError:
            if key in self._idempotency:  # the books' conflict, not the ledger's
                raise
            raise IdempotencyConflictError(self._ledger_key(key), f" ({operation})") from None


class LedgerForgetsTheRecipient(FakeProvider):
    """Its ledger keeps that an email was sent, not to whom: a replay after a restart says none."""

    def _from_ledger(self, operation: str, record: IdempotencyRecord) -> object:
        result = super()._from_ledger(operation, record)
        if isinstance(result, InvoiceEmailResult) and result.sent:
            return attrs.evolve(result, recipient=None)
        return result


class NotFoundWithoutTheId(FakeProvider):
    """Raises NotFoundError without saying which id was not found."""

    def _invoice(self, invoice_id: str) -> Invoice:
        try:
            return super()._invoice(invoice_id)
        except NotFoundError as error:
            raise NotFoundError(str(error)) from None


class RefusesWithoutSayingWhy(FakeProvider):
    """Names the refused fields of an invoice, with empty messages."""

    def _validate_invoice(self, request: InvoiceRequest) -> None:
        try:
            super()._validate_invoice(request)
        except ValidationError as error:
            raise ValidationError([FieldError(e.field, "") for e in error.errors]) from None


class ContactReplayAnswersTheFirst(FakeProvider):
    """Answers a replayed contact key with the details of the first call, not the contact now."""

    @hookimpl
    def create_contact(self, contact: Contact, idempotency_key: str) -> ContactRecord:
        stored = self._idempotency.get(idempotency_key)
        record = super().create_contact(contact, idempotency_key)
        if stored is not None and isinstance(stored[2], ContactRecord):
            return stored[2]
        return record


class NonDeliveryNamesNoBody(FakeProvider):
    """Refuses a signed body that is no delivery, naming a made-up field instead of ``body``."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        try:
            return super().parse_webhook(body, headers)
        except ValidationError as error:
            raise ValidationError([FieldError("$", e.message) for e in error.errors]) from None


class ReportsRefusedCredentialsAsAnOutage(FakeProvider):
    """Turns a refusal of the credentials into "unavailable", so the caller retries forever."""

    @hookimpl
    def create_contact(self, contact: Contact, idempotency_key: str) -> ContactRecord:
        try:
            return super().create_contact(contact, idempotency_key)
        except AuthenticationError as error:
            raise ProviderUnavailableError(str(error)) from None


BROKEN: dict[type[FakeProvider], set[str]] = {
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
    # Issue 12: each of these passed the suite before it had the tests named here.
    BillsInTheFirstCurrency: {
        "test_other_currencies_are_billed_in_that_currency[EXCLUSIVE]",
        "test_other_currencies_are_billed_in_that_currency[INCLUSIVE]",
        "test_zero_decimal_currency_has_no_minor_unit",
    },
    RoundsTaxTiesToEven: {"test_half_cent_tax_rounds_half_away_from_zero"},
    KeysIgnoreCase: {"test_invoice_keys_are_compared_exactly"},
    ConflictIgnoresTheReference: {
        "test_invoice_key_with_any_field_changed_conflicts[reference]",
        "test_invoice_key_with_any_field_changed_conflicts[reference.cleared]",
    },
    KeepsAClearedEmail: {"test_a_contact_field_can_be_cleared"},
    ContactReplayAppliesAgain: {"test_replayed_key_changes_nothing"},
    EmailsAgainOnReplay: {
        "test_one_key_sends_one_email",
        "test_lost_email_response_then_retry_sends_one_email",
    },
    EmailsUnknownInvoices: {"test_email_of_an_unknown_invoice_raises_not_found"},
    DraftsHaveOnlineUrls: {"test_draft_invoice_has_no_online_url"},
    SignatureIgnoresCase: {
        "test_signature_must_match_exactly[swapped-case]",
        "test_signature_must_match_exactly[lower-case]",
        "test_signature_must_match_exactly[upper-case]",
    },
    AcceptsACutSignature: {
        "test_signature_must_match_exactly[cut-by-one]",
        "test_signature_must_match_exactly[first-half]",
    },
    ParsesBeforeVerifying: {
        "test_signature_is_verified_before_the_body_is_parsed[text]",
        "test_signature_is_verified_before_the_body_is_parsed[empty]",
        "test_signature_is_verified_before_the_body_is_parsed[empty-object]",
    },
    RefusesSignedGarbageAsUnverified: {
        f"test_signed_body_that_is_not_a_delivery_raises_validation_error[{body}]"
        for body in ("text", "binary", "json-list")
    },
    KeepsFirstInvoiceOfADelivery: {"test_delivery_naming_several_invoices_reports_each"},
    KeepsOtherTenantsEvents: {"test_other_tenants_events_are_dropped"},
    ReadsWhileParsing: {"test_parsing_makes_no_provider_call"},
    NoDeliveryForPartPayments: {"test_part_payment_has_its_own_delivery"},
    ReadsSinceAsUTC: {
        "test_changed_since_honours_the_offset_of_since[UTC+13]",
        "test_changed_since_honours_the_offset_of_since[UTC+5.5]",
        "test_changed_since_honours_the_offset_of_since[UTC-5]",
        "test_changed_since_honours_the_offset_of_since[UTC-9.5]",
    },
    TrimsTheSignature: {
        f"test_signature_must_match_exactly[{change}]"
        for change in ("leading-space", "trailing-space", "trailing-newline", "padded-tab")
    },
    ConflictNamesAnotherKey: {
        "test_same_key_for_another_contact_conflicts",
        "test_same_key_for_another_request_conflicts",
    },
    LedgerConflictNamesItsOwnKey: {
        "test_key_reused_after_a_restart_for_another_invoice_is_refused"
    },
    LedgerForgetsTheRecipient: {"test_email_sent_before_a_restart_is_not_sent_again"},
    NotFoundWithoutTheId: {
        "test_invoice_url_of_an_unknown_id_raises_not_found",
        "test_void_of_an_unknown_invoice_raises_not_found",
        "test_email_of_an_unknown_invoice_raises_not_found",
    },
    RefusesWithoutSayingWhy: {
        "test_currency_not_enabled_is_refused_naming_the_field",
        "test_unknown_account_code_is_refused_naming_the_field",
        "test_unknown_line_account_code_is_refused_naming_the_line",
    },
    ContactReplayAnswersTheFirst: {"test_replayed_key_changes_nothing"},
    ReportsRefusedCredentialsAsAnOutage: {
        "test_documented_errors_reach_the_caller_as_themselves[AuthenticationError-create_contact]"
    },
    NonDeliveryNamesNoBody: {
        f"test_signed_body_that_is_not_a_delivery_raises_validation_error[{body}]"
        for body in ("text", "binary", "json-list")
    },
}
"""Each broken provider and the contract tests (names with parameters) that must fail for it."""
