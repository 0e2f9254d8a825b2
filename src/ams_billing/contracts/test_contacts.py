"""Contract: ``create_contact`` upserts by account reference and honours idempotency keys."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given

from ams_billing.contracts import strategies
from ams_billing.contracts.builders import create_invoice, invoice_request, make_contact, unique
from ams_billing.contracts.case import EXAMPLES, CommandLineProvider, ContractCase
from ams_billing.contracts.harness import ContractHarness
from ams_billing.core.errors import IdempotencyConflictError
from ams_billing.core.models import Contact

__all__ = ["ContactContract"]


class ContactContract(ContractCase):
    """``create_contact``: create, upsert on ``account_reference``, replay on the same key."""

    def test_create_contact_returns_what_it_holds(self, harness: ContractHarness) -> None:
        contact = make_contact()
        record = harness.service.create_contact(contact, idempotency_key=unique("contact"))
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

    def test_same_key_for_another_contact_conflicts(self, harness: ContractHarness) -> None:
        key = unique("contact")
        harness.service.create_contact(make_contact(), idempotency_key=key)
        with pytest.raises(IdempotencyConflictError) as raised:
            harness.service.create_contact(make_contact(), idempotency_key=key)
        assert "idempotency_key" in raised.value.fields

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


class TestContacts(ContactContract, CommandLineProvider):
    """The contact contract for the provider named by ``--billing-provider``."""
