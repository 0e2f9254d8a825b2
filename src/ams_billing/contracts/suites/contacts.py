"""Contract: ``create_contact`` upserts by account reference and honours idempotency keys."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given

from ams_billing.contracts import strategies
from ams_billing.contracts.builders import create_invoice, invoice_request, make_contact, unique
from ams_billing.contracts.case import EXAMPLES, ContractCase
from ams_billing.contracts.checks import check_conflict
from ams_billing.core.behaviour import ContactView
from ams_billing.core.errors import IdempotencyConflictError
from ams_billing.core.models import Capability, Contact, ContactRecord, EmailSkipReason
from ams_billing.testing.harness import ContractHarness

__all__ = ["ContactContract"]


class ContactContract(ContractCase):
    """``create_contact``: create, upsert on ``account_reference``, replay on the same key."""

    def test_create_contact_returns_what_it_holds(self, harness: ContractHarness) -> None:
        contact = make_contact()
        record = harness.service.create_contact(contact, idempotency_key=unique("contact"))
        assert isinstance(record, ContactRecord)
        assert record.provider_id
        assert record.account_reference == contact.account_reference
        assert record.name == contact.name
        assert record.email == contact.email

    def test_same_account_reference_updates_the_same_contact(
        self, harness: ContractHarness
    ) -> None:
        contact = make_contact(email="before@example.org")
        first = harness.service.create_contact(contact, idempotency_key=unique("contact"))
        changed = attrs.evolve(contact, name=f"{contact.name} Jr", email="after@example.org")
        second = harness.service.create_contact(changed, idempotency_key=unique("contact"))
        assert second.provider_id == first.provider_id
        assert (second.name, second.email) == (changed.name, changed.email)

    def test_same_key_returns_the_first_record(self, harness: ContractHarness) -> None:
        contact = make_contact()
        key = unique("contact")
        first = harness.service.create_contact(contact, idempotency_key=key)
        again = harness.service.create_contact(contact, idempotency_key=key)
        assert again == first

    def test_replayed_key_changes_nothing(self, harness: ContractHarness) -> None:
        # A repeat returns the first result "without another change": a later update made
        # under another key stays.
        contact = make_contact()
        invoice = create_invoice(harness, invoice_request(harness, contact=contact))
        key = unique("contact")
        first = harness.service.create_contact(contact, idempotency_key=key)
        renamed = attrs.evolve(contact, name=f"{contact.name} Jr", email="after@example.org")
        harness.service.create_contact(renamed, idempotency_key=unique("contact"))
        again = harness.service.create_contact(contact, idempotency_key=key)
        # The same contact, as the provider holds it now: the replay did not write the first
        # details back, and it answers with the later ones.
        assert again.provider_id == first.provider_id
        assert (again.account_reference, again.name, again.email) == (
            contact.account_reference,
            renamed.name,
            renamed.email,
        )
        # A re-read invoice shows the contact as declared: as it is now, or as it was issued.
        live = harness.service.behaviour.issued_contact is ContactView.LIVE
        shown = renamed if live else contact
        read = harness.service.get_invoice(invoice.provider_id)
        assert (read.contact.name, read.contact.email) == (shown.name, shown.email)

    def test_same_key_for_another_contact_conflicts(self, harness: ContractHarness) -> None:
        key = unique("contact")
        harness.service.create_contact(make_contact(), idempotency_key=key)
        with pytest.raises(IdempotencyConflictError) as raised:
            harness.service.create_contact(make_contact(), idempotency_key=key)
        check_conflict(raised.value, key)

    @pytest.mark.parametrize("field", ["name", "email", "email.cleared", "account_reference"])
    def test_contact_key_with_any_field_changed_conflicts(
        self, harness: ContractHarness, field: str
    ) -> None:
        contact = make_contact()
        changed = {
            "name": attrs.evolve(contact, name=f"{contact.name} Jr"),
            "email": attrs.evolve(contact, email="other@example.org"),
            "email.cleared": attrs.evolve(contact, email=None),
            "account_reference": attrs.evolve(contact, account_reference=unique("contract")),
        }[field]
        key = unique("contact")
        first = harness.service.create_contact(contact, idempotency_key=key)
        with pytest.raises(IdempotencyConflictError) as raised:
            harness.service.create_contact(changed, idempotency_key=key)
        check_conflict(raised.value, key)
        # Refused, so nothing changed: the key still answers with the contact as it was.
        assert harness.service.create_contact(contact, idempotency_key=key) == first

    def test_contact_keys_are_compared_exactly(self, harness: ContractHarness) -> None:
        key = unique("Contact")
        first = harness.service.create_contact(make_contact(), idempotency_key=key)
        for variant in (key.swapcase(), key[:-1], f"{key}0"):
            other = make_contact()
            record = harness.service.create_contact(other, idempotency_key=variant)
            assert record.account_reference == other.account_reference, variant
            assert record.provider_id != first.provider_id

    def test_a_contact_field_can_be_cleared(self, harness: ContractHarness) -> None:
        contact = make_contact(email="before@example.org")
        invoice = create_invoice(harness, invoice_request(harness, contact=contact))
        cleared = attrs.evolve(contact, email=None)
        record = harness.service.create_contact(cleared, idempotency_key=unique("contact"))
        assert (record.account_reference, record.email) == (contact.account_reference, None)
        again = harness.service.create_contact(cleared, idempotency_key=unique("contact"))
        assert (again.provider_id, again.email) == (record.provider_id, None)
        if Capability.SEND_INVOICE in harness.service.capabilities:
            result = harness.service.send_invoice(invoice.provider_id)
            if harness.service.behaviour.issued_contact is ContactView.LIVE:
                # The invoice's contact is the contact as it is now: no address, so no email.
                assert (result.sent, result.skipped_reason) == (
                    False,
                    EmailSkipReason.NO_RECIPIENT,
                )
            else:  # SNAPSHOT: the invoice keeps the address it was issued to.
                assert (result.sent, result.recipient) == (True, "before@example.org")

    def test_reread_invoice_shows_the_declared_contact_details(
        self, harness: ContractHarness
    ) -> None:
        contact = make_contact(email="before@example.org", name="Before")
        invoice = create_invoice(harness, invoice_request(harness, contact=contact))
        changed = attrs.evolve(
            contact, name=f"After ({contact.account_reference})", email="after@example.org"
        )
        harness.service.create_contact(changed, idempotency_key=unique("contact"))
        read = harness.service.get_invoice(invoice.provider_id)
        view = harness.service.behaviour.issued_contact
        shown = changed if view is ContactView.LIVE else contact
        assert (read.contact.name, read.contact.email) == (shown.name, shown.email), (
            f"the provider declares {view}: a re-read invoice must show the contact "
            + ("as it is now" if view is ContactView.LIVE else "as it was when issued")
        )
        assert read.contact.account_reference == contact.account_reference

    def test_invoice_contact_is_the_contact_keyed_on_its_reference(
        self, harness: ContractHarness
    ) -> None:
        contact = make_contact()
        invoice = create_invoice(harness, invoice_request(harness, contact=contact))
        record = harness.service.create_contact(contact, idempotency_key=unique("contact"))
        assert invoice.contact.account_reference == contact.account_reference
        assert invoice.contact.provider_id == record.provider_id

    @EXAMPLES
    @given(contact=strategies.contacts(), key=strategies.idempotency_keys())
    def test_generated_contacts_are_held_as_given(
        self, harness: ContractHarness, contact: Contact, key: str
    ) -> None:
        # Unique account reference and key: examples share the harness.
        contact = attrs.evolve(contact, account_reference=unique("c"))
        key = f"{unique('k')}:{key}"[:128]
        record = harness.service.create_contact(contact, idempotency_key=key)
        assert (record.account_reference, record.name, record.email) == (
            contact.account_reference,
            contact.name,
            contact.email,
        )
        assert harness.service.create_contact(contact, idempotency_key=key) == record
