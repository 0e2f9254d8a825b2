"""Contacts keyed on the account reference: unique names, adopting existing contacts, updates."""

from __future__ import annotations

import attrs
import pytest
from xero_rig import Rig

from ams_billing import (
    BatchItem,
    BatchOutcome,
    BillingService,
    Contact,
    IdempotencyConflictError,
    ProviderUnavailableError,
    ValidationError,
)
from ams_billing.contracts.xero_emulator import authorised_client
from ams_billing.emulators.xero import FaultKind, FaultRule


def _seed_contact(rig: Rig, **fields: object) -> str:
    """Create a contact straight in the emulator, as Xero's UI or the old AMS would have."""
    with authorised_client(rig.emulator) as client:
        response = client.put("/api.xro/2.0/Contacts", json={"Contacts": [fields]})
    response.raise_for_status()
    return str(response.json()["Contacts"][0]["ContactID"])


def test_a_new_contact_is_created_with_its_reference(rig: Rig, member: Contact) -> None:
    record = rig.service.create_contact(member, idempotency_key="contact:1")
    (held,) = rig.emulator.books().contacts
    assert held["ContactID"] == record.provider_id
    assert (held["ContactNumber"], held["AccountNumber"]) == ("acct-42", "acct-42")
    assert (held["Name"], held["FirstName"], held["LastName"]) == (
        "Ada Lovelace",
        "Ada",
        "Lovelace",
    )
    assert held["EmailAddress"] == "ada@example.org"


def test_a_taken_name_is_made_unique_with_the_reference(rig: Rig, member: Contact) -> None:
    rig.service.create_contact(member, idempotency_key="contact:1")
    namesake = Contact("acct-43", "Ada Lovelace", "other@example.org")
    record = rig.service.create_contact(namesake, idempotency_key="contact:2")
    assert (record.name, record.account_reference) == ("Ada Lovelace", "acct-43")
    names = sorted(c["Name"] for c in rig.emulator.books().contacts)
    assert names == ["Ada Lovelace", "Ada Lovelace (acct-43)"]


def test_a_unique_name_is_kept_within_255_characters(rig: Rig) -> None:
    long_name = "N" * 255
    rig.service.create_contact(Contact("a-1", long_name), idempotency_key="contact:1")
    rig.service.create_contact(Contact("a-2", long_name), idempotency_key="contact:2")
    names = {c["ContactNumber"]: c["Name"] for c in rig.emulator.books().contacts}
    assert names["a-1"] == long_name
    assert len(names["a-2"]) == 255
    assert names["a-2"].endswith("N (a-2)")


def test_an_invoice_for_a_namesake_shows_the_callers_name(
    rig: Rig, member: Contact, membership
) -> None:
    rig.service.create_contact(attrs.evolve(member, account_reference="first"), idempotency_key="c")
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert invoice.contact.name == "Ada Lovelace"
    assert rig.service.get_invoice(invoice.provider_id).contact.name == "Ada Lovelace"


def test_a_contact_with_the_same_contact_number_is_adopted(rig: Rig, member: Contact) -> None:
    existing = _seed_contact(rig, Name="Ada L. (old)", ContactNumber="acct-42")
    record = rig.service.create_contact(member, idempotency_key="contact:1")
    assert record.provider_id == existing
    (held,) = rig.emulator.books().contacts
    assert (held["Name"], held["AccountNumber"]) == ("Ada Lovelace", "acct-42")


def test_a_contact_the_old_ams_made_is_found_by_account_number(rig: Rig, member: Contact) -> None:
    existing = _seed_contact(rig, Name="Ada Lovelace (acct-42)", AccountNumber="acct-42")
    record = rig.service.create_contact(member, idempotency_key="contact:1")
    assert record.provider_id == existing
    (held,) = rig.emulator.books().contacts
    assert held["ContactNumber"] == "acct-42"
    finds = [r for r in rig.api("GET") if "Contacts" in r.path]
    assert [r.path for r in finds] == ["/api.xro/2.0/Contacts/acct-42", "/api.xro/2.0/Contacts"]
    assert finds[1].query == {"where": 'AccountNumber=="acct-42"', "includeArchived": "true"}


def test_an_archived_contact_is_reactivated(rig: Rig, member: Contact) -> None:
    existing = _seed_contact(rig, Name="Ada Lovelace", ContactNumber="acct-42")
    with authorised_client(rig.emulator) as client:
        client.post(
            f"/api.xro/2.0/Contacts/{existing}", json={"ContactStatus": "ARCHIVED"}
        ).raise_for_status()
    record = rig.service.create_contact(member, idempotency_key="contact:1")
    assert record.provider_id == existing
    assert rig.emulator.books().contacts[0]["ContactStatus"] == "ACTIVE"


def test_changes_update_the_same_contact_and_a_missing_email_clears_it(
    rig: Rig, member: Contact
) -> None:
    first = rig.service.create_contact(member, idempotency_key="contact:1")
    moved = attrs.evolve(member, name="Ada King", email=None)
    second = rig.service.create_contact(moved, idempotency_key="contact:2")
    assert second.provider_id == first.provider_id
    assert (second.name, second.email) == ("Ada King", None)
    (held,) = rig.emulator.books().contacts
    assert (held["Name"], held["EmailAddress"]) == ("Ada King", "")


def test_a_cached_contact_xero_no_longer_knows_is_looked_for_again(
    rig: Rig, member: Contact
) -> None:
    first = rig.service.create_contact(member, idempotency_key="contact:1")
    gone = "The document with the supplied id was not found for this endpoint."
    missing = {
        "Contacts": [
            {
                "ContactID": first.provider_id,
                "StatusAttributeString": "ERROR",
                "ValidationErrors": [{"Message": gone}],
            }
        ]
    }
    rig.transport.script(1, 200, missing, method="POST", path="/Contacts$")
    rig.transport.clear_requests()
    again = rig.service.create_contact(attrs.evolve(member, name="Ada K"), idempotency_key="c:2")
    assert (again.provider_id, again.name) == (first.provider_id, "Ada K")
    sent = [
        (r.method, "ContactID" in (r.json() or {"Contacts": [{}]})["Contacts"][0])
        for r in rig.api()
    ]
    # the update by id is refused, a create finds the number taken, the contact is found again
    assert sent == [("POST", True), ("POST", False), ("GET", False), ("POST", True)]


def test_the_same_key_replays_without_a_request(rig: Rig, member: Contact) -> None:
    first = rig.service.create_contact(member, idempotency_key="contact:1")
    sent = len(rig.api())
    assert rig.service.create_contact(member, idempotency_key="contact:1") == first
    assert len(rig.api()) == sent
    with pytest.raises(IdempotencyConflictError):
        rig.service.create_contact(attrs.evolve(member, name="X"), idempotency_key="contact:1")


def test_a_key_used_for_a_contact_cannot_create_an_invoice(
    rig: Rig, member: Contact, membership
) -> None:
    rig.service.create_contact(member, idempotency_key="shared")
    with pytest.raises(IdempotencyConflictError):
        rig.service.create_invoice(membership, idempotency_key="shared")


def test_an_invoice_for_an_unchanged_contact_sends_no_contact_request(
    rig: Rig, member: Contact, membership
) -> None:
    record = rig.service.create_contact(member, idempotency_key="contact:1")
    rig.transport.clear()
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert [r.method for r in rig.api()] == ["PUT"]
    assert invoice.contact.provider_id == record.provider_id


def test_an_invoice_for_a_changed_contact_updates_it_first(
    rig: Rig, member: Contact, membership
) -> None:
    record = rig.service.create_contact(member, idempotency_key="contact:1")
    changed = attrs.evolve(membership, contact=attrs.evolve(member, email="new@example.org"))
    invoice = rig.service.create_invoice(changed, idempotency_key="invoice:1")
    assert invoice.contact.provider_id == record.provider_id
    assert invoice.contact.email == "new@example.org"
    assert rig.api("POST")[-1].json()["Contacts"][0]["ContactID"] == record.provider_id


def test_another_process_finds_the_contact_instead_of_duplicating_it(
    rig: Rig, member: Contact, membership
) -> None:
    rig.service.create_contact(member, idempotency_key="contact:1")
    other = BillingService(rig.second_provider())
    invoice = other.create_invoice(membership, idempotency_key="invoice:1")
    assert len(rig.emulator.books().contacts) == 1
    assert invoice.contact.account_reference == "acct-42"


def test_a_refused_contact_names_the_field(rig: Rig) -> None:
    # Xero's address rule is stricter than the model's (no "+" in the domain).
    with pytest.raises(ValidationError) as raised:
        rig.service.create_contact(
            Contact("acct-1", "Ada", "ada@exa+mple.org"), idempotency_key="contact:1"
        )
    assert raised.value.fields == ("email",)
    assert rig.provider.ledger.get("contact:1") is None


def _drop_answers_to_contact_posts(rig: Rig) -> None:
    """Xero applies every ``POST /Contacts`` of the next call but no answer gets back."""
    attempts = rig.provider.settings.max_attempts
    rig.emulator.add_fault(
        FaultRule(kind=FaultKind.DROP_AFTER, method="POST", path=r"/Contacts$", count=attempts)
    )


def test_a_retry_after_a_lost_answer_answers_the_contact_as_held_now(
    rig: Rig, member: Contact
) -> None:
    # Xero replays its first answer to the same key; the retry must not pass that answer on
    # (nor write the first details back) when the contact was updated since under another key.
    _drop_answers_to_contact_posts(rig)
    with pytest.raises(ProviderUnavailableError):
        rig.service.create_contact(member, idempotency_key="contact:1")
    renamed = attrs.evolve(member, name="Ada King", email="ada@king.example")
    later = rig.service.create_contact(renamed, idempotency_key="contact:2")
    retried = rig.service.create_contact(member, idempotency_key="contact:1")
    assert (retried.name, retried.email) == ("Ada King", "ada@king.example")
    assert retried == later
    (held,) = rig.emulator.books().contacts
    assert (held["Name"], held["EmailAddress"]) == ("Ada King", "ada@king.example")


def test_a_contact_batch_retried_after_a_lost_answer_is_existing_as_held_now(
    rig: Rig, member: Contact
) -> None:
    _drop_answers_to_contact_posts(rig)
    items = [BatchItem(member, "contact:1")]
    [lost] = rig.service.create_contacts(items)
    assert isinstance(lost.error, ProviderUnavailableError)
    renamed = attrs.evolve(member, name="Ada King", email="ada@king.example")
    later = rig.service.create_contact(renamed, idempotency_key="contact:2")
    [again] = rig.service.create_contacts(items)
    assert again.outcome is BatchOutcome.EXISTING
    assert again.unwrap() == later
    (held,) = rig.emulator.books().contacts
    assert (held["Name"], held["EmailAddress"]) == ("Ada King", "ada@king.example")
