"""Contract: what a refusal or a lost answer leaves of an idempotency key.

A key whose request was refused made nothing, so the corrected request may use it; a key whose
answer was lost may have made something, so its retry answers what was made, and what was
changed since under another key stays. The fault tests need the driver's
:class:`~ams_billing.testing.harness.FaultInjector`, the batch ones a native bulk hook, the
restart ones the harness's ``restart``; each skips, saying so, otherwise.
"""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from ams_billing.contracts.builders import create_invoice, invoice_request, make_contact, unique
from ams_billing.contracts.capabilities import (
    require_capability,
    require_fault_injector,
    require_restart,
)
from ams_billing.contracts.case import ContractCase
from ams_billing.contracts.checks import invoices_with_reference
from ams_billing.contracts.suites.bulk import require_native_bulk, require_native_contact_bulk
from ams_billing.core.batch import BatchItem, BatchOutcome
from ams_billing.core.behaviour import ContactView
from ams_billing.core.errors import ProviderUnavailableError, ValidationError
from ams_billing.core.models import Capability, Contact, Invoice
from ams_billing.testing.harness import ContractHarness

__all__ = ["KeyContract"]


def _lose_response(harness: ContractHarness, operation: str) -> None:
    """Have the next ``operation`` applied, and its answer lost on the way back."""
    faults = require_fault_injector(harness)
    faults.fail_next(1, ProviderUnavailableError, operations=[operation], after_apply=True)


def _restart(harness: ContractHarness) -> None:
    harness.service = require_restart(harness)()


def _check_the_later_update_stays(
    harness: ContractHarness, issued: Invoice, renamed: Contact
) -> None:
    """Check, where the provider shows it, that the contact still has ``renamed``'s details.

    A provider that shows live details on an issued invoice shows them on ``issued``; one that
    freezes the contact at issue shows the details ``issued`` was raised with, whatever
    happened since, so there the answers the test checked are what shows the contact now.
    """
    if harness.service.behaviour.issued_contact is ContactView.LIVE:
        read = harness.service.get_invoice(issued.provider_id)
        assert (read.contact.name, read.contact.email) == (renamed.name, renamed.email)


class KeyContract(ContractCase):
    """Idempotency keys after a refused request and after a lost answer."""

    def test_refused_request_leaves_its_key_to_the_corrected_one(
        self, harness: ContractHarness
    ) -> None:
        # hookspecs.py: a refused request made nothing, so its key is not spent; a retry with
        # the request corrected is billed, not refused as a conflict with the refused one.
        key = unique("invoice")
        refused = invoice_request(harness, currency="XXX")
        with pytest.raises(ValidationError):
            harness.service.create_invoice(refused, idempotency_key=key)
        corrected = attrs.evolve(refused, currency=harness.currency)
        invoice = harness.service.create_invoice(corrected, idempotency_key=key)
        assert (invoice.currency, invoice.reference) == (harness.currency, corrected.reference)
        again = harness.service.create_invoice(corrected, idempotency_key=key)
        assert again.provider_id == invoice.provider_id

    def test_lost_contact_answer_then_a_later_update_stays(self, harness: ContractHarness) -> None:
        # hookspecs.py (create_contact): a repeat of a key, even after its answer was lost,
        # does not write the first details back over a later update made under another key.
        contact = make_contact(email="before@example.org")
        invoice = create_invoice(harness, invoice_request(harness, contact=contact))
        key = unique("contact")
        _lose_response(harness, "create_contact")
        with pytest.raises(ProviderUnavailableError):
            harness.service.create_contact(contact, idempotency_key=key)
        renamed = attrs.evolve(contact, name=f"{contact.name} Jr", email="after@example.org")
        later = harness.service.create_contact(renamed, idempotency_key=unique("contact"))
        retried = harness.service.create_contact(contact, idempotency_key=key)
        # The retry answers the contact as held now, not as the lost attempt sent it.
        assert retried == later
        _check_the_later_update_stays(harness, invoice, renamed)

    def test_lost_batch_answer_retried_after_a_restart_creates_nothing_twice(
        self, harness: ContractHarness
    ) -> None:
        # hookspecs.py (create_invoices): after a lost answer, retrying the batch with the same
        # keys creates nothing twice, also once the accounting system has forgotten the keys.
        require_native_bulk(harness)
        require_capability(harness, Capability.CHANGED_SINCE)
        require_restart(harness)
        anchor = create_invoice(harness)
        items = [BatchItem(invoice_request(harness), unique("invoice")) for _ in range(2)]
        _lose_response(harness, "create_invoices")
        lost = harness.service.create_invoices(items)
        assert all(isinstance(r.error, ProviderUnavailableError) for r in lost)
        _restart(harness)
        retried = harness.service.create_invoices(items)
        assert [r.outcome for r in retried] == [BatchOutcome.EXISTING] * 2
        since = anchor.updated_at - timedelta(seconds=1)
        for item, result in zip(items, retried, strict=True):
            found = invoices_with_reference(harness, since, item.request.reference)
            assert [i.provider_id for i in found] == [result.unwrap().provider_id]

    def test_contact_batch_replayed_after_a_restart_keeps_a_later_update(
        self, harness: ContractHarness
    ) -> None:
        # hookspecs.py (create_contact, per item of create_contacts): a replayed key does not
        # write the first details back over a later update, also after a restart.
        require_restart(harness)
        contact = make_contact(email="before@example.org")
        invoice = create_invoice(harness, invoice_request(harness, contact=contact))
        items = [BatchItem(contact, unique("contact"))]
        [first] = harness.service.create_contacts(items)
        renamed = attrs.evolve(contact, name=f"{contact.name} Jr", email="after@example.org")
        harness.service.create_contact(renamed, idempotency_key=unique("contact"))
        _restart(harness)
        [again] = harness.service.create_contacts(items)
        assert again.outcome is BatchOutcome.EXISTING
        assert again.unwrap().provider_id == first.unwrap().provider_id
        _check_the_later_update_stays(harness, invoice, renamed)

    def test_lost_contact_batch_answer_retried_is_existing_with_a_later_update(
        self, harness: ContractHarness
    ) -> None:
        # hookspecs.py (create_contacts): after a lost answer, the retried batch reports the
        # contact the lost attempt made as EXISTING, with its details as held now.
        require_native_contact_bulk(harness)
        contact = make_contact(email="before@example.org")
        items = [BatchItem(contact, unique("contact"))]
        _lose_response(harness, "create_contacts")
        [lost] = harness.service.create_contacts(items)
        assert isinstance(lost.error, ProviderUnavailableError)
        renamed = attrs.evolve(contact, name=f"{contact.name} Jr", email="after@example.org")
        later = harness.service.create_contact(renamed, idempotency_key=unique("contact"))
        [again] = harness.service.create_contacts(items)
        assert again.outcome is BatchOutcome.EXISTING
        assert again.unwrap() == later

    def test_unset_account_code_is_the_providers_default(self, harness: ContractHarness) -> None:
        # hookspecs.py (create_invoice): an unset account_code takes the provider's default.
        defaults = harness.service.invoice_defaults
        if defaults.account_code is None:
            pytest.skip("the provider states no default account code (get_invoice_defaults)")
        request = attrs.evolve(invoice_request(harness), account_code=None)
        invoice = harness.service.create_invoice(request, idempotency_key=unique("invoice"))
        assert [line.account_code for line in invoice.line_items] == [defaults.account_code]

    def test_refused_batch_item_retried_is_refused_again(self, harness: ContractHarness) -> None:
        # hookspecs.py (create_invoices): idempotent per item; a refused item made nothing, so
        # the same batch again refuses it again, and bills the other item once.
        good = invoice_request(harness)
        bad = invoice_request(harness, currency="XXX")
        items = [BatchItem(good, unique("invoice")), BatchItem(bad, unique("invoice"))]
        first = harness.service.create_invoices(items)
        again = harness.service.create_invoices(items)
        assert [r.ok for r in first] == [r.ok for r in again] == [True, False]
        assert isinstance(again[1].error, ValidationError)
        assert again[0].outcome is BatchOutcome.EXISTING
        assert again[0].unwrap().provider_id == first[0].unwrap().provider_id

    def test_refused_batch_item_leaves_its_key_to_the_corrected_one(
        self, harness: ContractHarness
    ) -> None:
        # hookspecs.py: as for a single create, a refused item's key is not spent.
        key = unique("invoice")
        refused = invoice_request(harness, currency="XXX")
        [first] = harness.service.create_invoices([BatchItem(refused, key)])
        assert isinstance(first.error, ValidationError)
        corrected = attrs.evolve(refused, currency=harness.currency)
        [again] = harness.service.create_invoices([BatchItem(corrected, key)])
        assert again.outcome is BatchOutcome.CREATED, again.error
        assert again.unwrap().reference == corrected.reference
