"""Broken providers for promises the suite tests: keys the system forgot, refusals, declarations.

Like ``contract_broken.py`` (the fake with one defect each, ``BROKEN`` naming the contract tests
each must fail), for the key-expiry contract (``contracts/suites/key_expiry.py``: a retry in the
same process after the accounting system forgot the key still bills, and emails, once) and the
webhook secrecy contract (``contracts/suites/webhook_secrecy.py``: a refused delivery reveals
neither the signature that would have been valid nor a secret). The first two pass every other
test of the suite: only the key-expiry tests catch them. The last ones declare Stripe's
behaviour (:data:`STRIPE_LIKE`, as :class:`StripeLikeFake` does honestly) and break one
declared promise each: the suite checks what a provider declares. Not a test module:
``test_contract_teeth.py`` copies it next to a generated test file.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ams_billing import (
    ContactView,
    InvoiceStatus,
    ProviderBehaviour,
    ProviderUnavailableError,
    TaxModel,
    WebhookDelivery,
    WebhookVerificationError,
    hookimpl,
)
from ams_billing.core.batch import BatchItem, BatchResult
from ams_billing.core.signing import header_value, sign_body
from ams_billing.providers.fake import SIGNATURE_HEADER, FakeProvider
from ams_billing.testing.fake import restartable_harness

logger = logging.getLogger("contract_broken_promises")


class ResendsBlindlyInTheSameProcess(FakeProvider):
    """Resends a write whose answer it lost straight to the books, skipping its ledger's look-up.

    It trusts the accounting system to recognise a key this process sent itself, which holds
    only while the system remembers the key; a new process (after a restart) uses the ledger.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lost: set[str] = set()

    def _keyed(self, operation: str, key: str, request: Any) -> tuple[Any, bool]:
        if key in self._lost:
            return self._apply(operation, request, key)
        try:
            return super()._keyed(operation, key, request)
        except ProviderUnavailableError:
            self._lost.add(key)
            raise


class ForgetsTheKeysOfALostBatch(FakeProvider):
    """Forgets a batch's keys when its answer is lost, as if nothing had been applied.

    The retry sends the batch again, which the books recognise only while they remember the keys.
    """

    def _keyed_batch(
        self, batch: str, operation: str, items: Sequence[BatchItem[Any]]
    ) -> list[BatchResult[Any]]:
        try:
            return super()._keyed_batch(batch, operation, items)
        except ProviderUnavailableError:
            for item in items:
                self.ledger.delete(self._ledger_key(item.idempotency_key))
            raise


class KeepsNoLedger(FakeProvider):
    """Keeps no ledger of its keys: the accounting system's memory of them is all there is."""

    def _keyed(self, operation: str, key: str, request: Any) -> tuple[Any, bool]:
        result = self._apply(operation, request, key)
        self._fail_after_apply(operation)
        return result


def _expected(provider: FakeProvider, body: bytes) -> str:
    return sign_body(body, provider._webhook_key)


class RevealsTheExpectedSignature(FakeProvider):
    """Says which signature it expected when it refuses one."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        given = header_value(headers, SIGNATURE_HEADER)
        expected = _expected(self, body)
        if given != expected:
            raise WebhookVerificationError(f"expected {expected}, got {given}")
        return super().parse_webhook(body, headers)


class ChainsTheExpectedDigestInHex(FakeProvider):
    """Refuses in a few words, raised from an error that names the expected digest in hex."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        try:
            return super().parse_webhook(body, headers)
        except WebhookVerificationError as error:
            digest = hmac.new(self._webhook_key.encode(), body, hashlib.sha256).hexdigest()
            raise error from ValueError(f"the HMAC-SHA256 of the body is {digest}")


class LogsAPieceOfTheExpectedSignature(FakeProvider):
    """Logs, at DEBUG, how the signature it expected begins."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        try:
            return super().parse_webhook(body, headers)
        except WebhookVerificationError:
            logger.debug("signature refused; expected one beginning %s", _expected(self, body)[:10])
            raise


class NotesTheWebhookKey(FakeProvider):
    """Adds a note with the webhook key to its refusal, "to help debugging"."""

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        try:
            return super().parse_webhook(body, headers)
        except WebhookVerificationError as error:
            error.add_note(f"verified with the webhook key {self._webhook_key}")
            raise


STRIPE_LIKE = ProviderBehaviour(
    quantity_places=0,
    tax_model=TaxModel.NO_TAX,
    zero_total_status=InvoiceStatus.PAID,
    issued_contact=ContactView.SNAPSHOT,
    refuses_past_due_dates=True,
)
"""What Stripe declares about billing (webhooks aside): whole quantities, no tax computed, a
zero invoice paid at once, the contact frozen on the issued invoice, no past due dates."""


class StripeLikeFake(FakeProvider):
    """The fake declaring :data:`STRIPE_LIKE` and acting so: it passes the whole suite."""

    acts = STRIPE_LIKE
    """What it does; it declares :data:`STRIPE_LIKE` whatever it does."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(behaviour=self.acts, **kwargs)

    @hookimpl
    def get_behaviour(self) -> ProviderBehaviour:
        return STRIPE_LIKE

    @classmethod
    def contract_harness(cls) -> Any:
        """The zero-code run's harness (``--billing-provider=contract_broken_promises....``)."""
        return restartable_harness(cls)


class DeclaresZeroTotalPaidButLeavesItOpen(StripeLikeFake):
    """Declares that a zero invoice is PAID when raised, but leaves it OPEN (Xero's answer)."""

    acts = attrs.evolve(STRIPE_LIKE, zero_total_status=InvoiceStatus.OPEN)


class DeclaresASnapshotButShowsLiveDetails(StripeLikeFake):
    """Declares the issued invoice's contact frozen, but shows the contact's current details."""

    acts = attrs.evolve(STRIPE_LIKE, issued_contact=ContactView.LIVE)


class DeclaresNoTaxButChargesIt(StripeLikeFake):
    """Declares that it computes no tax, but taxes each line at its account's rate."""

    acts = attrs.evolve(STRIPE_LIKE, tax_model=TaxModel.PER_LINE_HALF_UP)


_FORGERIES = ("changed-body", "reformatted-body", "corrupted-signature", "absent-signature")

BROKEN: dict[type[FakeProvider], set[str]] = {
    ResendsBlindlyInTheSameProcess: {
        "test_lost_invoice_response_then_a_retry_after_the_system_forgot_its_key_bills_once",
        "test_lost_email_response_then_a_retry_after_the_system_forgot_its_key_emails_once",
    },
    ForgetsTheKeysOfALostBatch: {
        "test_lost_batch_response_then_a_retry_after_the_system_forgot_its_keys_bills_once",
    },
    KeepsNoLedger: {
        "test_invoice_retried_after_the_system_forgot_its_key_is_not_billed_again",
        "test_email_sent_before_the_system_forgot_its_key_is_not_sent_again",
        "test_lost_invoice_response_then_a_retry_after_the_system_forgot_its_key_bills_once",
        "test_lost_email_response_then_a_retry_after_the_system_forgot_its_key_emails_once",
    },
    **{
        broken: {f"test_refused_delivery_reveals_no_valid_signature[{f}]" for f in _FORGERIES}
        for broken in (
            RevealsTheExpectedSignature,
            ChainsTheExpectedDigestInHex,
            LogsAPieceOfTheExpectedSignature,
        )
    },
    NotesTheWebhookKey: {f"test_refused_delivery_reveals_no_secret[{f}]" for f in _FORGERIES},
    DeclaresZeroTotalPaidButLeavesItOpen: {"test_zero_total_invoice_takes_the_declared_status"},
    DeclaresASnapshotButShowsLiveDetails: {
        "test_reread_invoice_shows_the_declared_contact_details",
        "test_a_contact_field_can_be_cleared",
    },
    DeclaresNoTaxButChargesIt: {
        "test_invoice_is_authorised_with_consistent_totals",
        "test_discount_lines_reduce_the_total",
        "test_results_come_in_input_order",
    },
}
"""Each broken provider and the contract tests (names with parameters) that must fail for it."""

PASS_THE_REST = {ResendsBlindlyInTheSameProcess, ForgetsTheKeysOfALostBatch}
"""The broken providers that only the tests named for them fail: nothing else catches them."""
