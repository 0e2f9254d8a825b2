"""Contacts keyed on the caller's account reference: create, or find and update.

The account reference goes into ``ContactNumber`` (API-only and unique in Xero, so it is a
natural key) and into ``AccountNumber`` (which the old AMS searched with
``where=AccountNumber==...``; keeping it lets this provider adopt contacts the old one made).

One save is ``POST /Contacts?summarizeErrors=false`` and its outcome decides the next step:

- *contact number already assigned* (or *Account Number already exists*): the contact exists;
  find it (``GET /Contacts/{ContactNumber}``, then ``where=AccountNumber==...``) and update it
  by ``ContactID`` (reactivating it if it was archived);
- *contact name already assigned*: Xero wants names unique among active contacts; retry with
  ``"<name> (<account reference>)"``, as the old AMS named every contact. The record returned
  (and invoices' contacts) still carry the caller's name: the suffix is Xero's business;
- anything else is a :class:`~ams_billing.core.errors.ValidationError` naming the field.

ContactIDs are cached by account reference, with the last details saved, so an unchanged
contact costs no call when an invoice is raised for it.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote

import attrs

from ams_billing.core.errors import NotFoundError, ProviderUnavailableError, ValidationError
from ams_billing.core.idempotency import IdempotentCalls, Outcome, OutcomeCodec
from ams_billing.core.models import Contact, ContactRecord
from ams_billing.providers.xero import wire
from ams_billing.providers.xero.errors import element_messages, validation_error
from ams_billing.providers.xero.ledger import xero_key
from ams_billing.providers.xero.mapping import contact_payload, to_contact_record, unique_name
from ams_billing.providers.xero.transport import XeroHttp

__all__ = ["NAME_TAKEN", "NUMBER_TAKEN", "XeroContacts"]

NAME_TAKEN = re.compile(r"contact name .* already assigned", re.IGNORECASE | re.DOTALL)
NUMBER_TAKEN = re.compile(
    r"contact number .* already assigned|account number already exists", re.IGNORECASE | re.DOTALL
)
_MAX_SAVES = 4
_OPERATION = "create_contact"


class XeroContacts:
    """Creates, finds and updates contacts; remembers ContactIDs by account reference."""

    def __init__(self, http: XeroHttp, once: IdempotentCalls) -> None:
        self._http = http
        self._once = once
        self.codec = OutcomeCodec[ContactRecord](
            keep=lambda saved: Outcome(saved.provider_id),
            replay=lambda record: self._replay(record.result or ""),
        )
        """How a contact is kept in the ledger (its ContactID) and replayed (read again)."""
        self._lock = threading.Lock()
        self._saved: dict[str, tuple[Contact, ContactRecord]] = {}
        self._by_id: dict[str, ContactRecord] = {}

    def create_contact(self, contact: Contact, idempotency_key: str) -> ContactRecord:
        """The ``create_contact`` operation: the caller's key guards against repeats.

        After an unknown outcome the save runs again without a look-up first: it is an upsert
        on the ContactNumber, which Xero keeps unique, so it finds what a lost attempt made.
        Xero may answer that save with its first answer (the same idempotency key), so the
        contact is then read again: the answer is the contact as held now, a later update
        under another key included (hookspecs.py).
        """
        return self._once.run(
            idempotency_key,
            _OPERATION,
            contact,
            call=lambda: self.save(contact, idempotency_key, force=True),
            codec=self.codec,
            find=lambda record: self.saved_again(contact, idempotency_key),
        )

    def saved_again(self, contact: Contact, caller_key: str) -> ContactRecord | None:
        """After a lost answer: save again, then the contact as held now (``None``: refused).

        A refusal gives ``None``, so the routine calls the save once more and applies its rule
        to the refusal (the key is forgotten, free for the corrected request).
        """
        try:
            saved = self.save(contact, caller_key, force=True, uncached=True)
        except ValidationError:
            return None
        return self.read(saved.provider_id)

    def read(self, contact_id: str) -> ContactRecord:
        """The contact as Xero holds it now (never the cache), remembered as such."""
        record = self._get(contact_id, self.known(contact_id))
        with self._lock:
            self._by_id[contact_id] = record
            reference = record.account_reference or ""
            cached = self._saved.get(reference)
            if cached is not None and cached[1].provider_id == contact_id and cached[1] != record:
                del self._saved[reference]  # changed since it was saved: the next save sends
        return record

    def resolve(self, contact: Contact, caller_key: str) -> ContactRecord:
        """The contact an invoice is for: cached if unchanged, else created or updated."""
        return self.save(contact, caller_key, force=False)

    def known(self, contact_id: str) -> ContactRecord | None:
        """The last record seen for ``contact_id`` (fills in what invoice summaries omit)."""
        with self._lock:
            return self._by_id.get(contact_id)

    def save(
        self,
        contact: Contact,
        caller_key: str,
        *,
        force: bool,
        name_taken: bool = False,
        uncached: bool = False,
    ) -> ContactRecord:
        """Create or update the contact keyed on its account reference.

        Without ``force`` an unchanged contact saved before by this instance is not sent again.
        ``name_taken`` (Xero already refused the plain name) starts with the unique name.
        ``uncached`` sends without the ContactID cached since (a retry after a lost answer):
        the saves then repeat the lost attempt's bodies, which Xero replays if it made them.
        """
        with self._lock:
            cached = None if uncached else self._saved.get(contact.account_reference)
        if cached is not None and not force and cached[0] == contact:
            return cached[1]
        contact_id = cached[1].provider_id if cached is not None else None
        if contact_id is not None:
            try:
                return self._save(contact, caller_key, contact_id, name_taken)
            except NotFoundError:
                self._forget(contact.account_reference)
        return self._save(contact, caller_key, None, name_taken)

    def _save(
        self, contact: Contact, caller_key: str, contact_id: str | None, name_taken: bool = False
    ) -> ContactRecord:
        name = unique_name(contact.name, contact.account_reference) if name_taken else contact.name
        reactivate = False
        messages: list[tuple[str, str]] = []
        for _ in range(_MAX_SAVES):
            payload = contact_payload(
                contact, contact_id=contact_id, name=name, reactivate=reactivate
            )
            # The transport appends the body's digest: each variant gets its own key.
            element = self._post(payload, xero_key("contact", caller_key), contact_id)
            messages = list(element_messages(element))
            if not messages and element.status_attribute_string != "ERROR":
                # The caller's name, even when Xero holds it made unique.
                record = attrs.evolve(to_contact_record(element), name=contact.name)
                self._remember(contact, record)
                return record
            texts = " ".join(message for _, message in messages)
            if contact_id is not None and "not found" in texts.lower():
                raise NotFoundError(f"Xero has no contact {contact_id!r}", resource_id=contact_id)
            if contact_id is None and NUMBER_TAKEN.search(texts):
                found = self.find(contact.account_reference)
                if found is not None and found.contact_id:
                    contact_id = found.contact_id
                    reactivate = found.contact_status == "ARCHIVED"
                    continue
            if NAME_TAKEN.search(texts) and name == contact.name:
                name = unique_name(contact.name, contact.account_reference)
                continue
            break
        raise validation_error(messages, "contact", caller_key)

    def _post(
        self, payload: wire.WireContact, key: str, contact_id: str | None
    ) -> wire.WireContact:
        response = self._http.api(
            "POST",
            "/Contacts",
            params={"summarizeErrors": "false"},
            body={"Contacts": [wire.unstructure(payload)]},
            idempotency_key=key,
            kind="contact",
            resource_id=contact_id,
        )
        envelope = wire.read(response.content, wire.ContactsEnvelope)
        if len(envelope.contacts) != 1:
            raise ProviderUnavailableError("Xero answered a contact save without the contact")
        return envelope.contacts[0]

    def find(self, account_reference: str) -> wire.WireContact | None:
        """Find a contact (archived ones too) by ContactNumber, then by AccountNumber."""
        response = self._http.api(
            "GET",
            f"/Contacts/{quote(account_reference, safe='')}",
            expect=(200, 404),
            kind="contact",
        )
        if response.status_code == 200:
            for found in wire.read(response.content, wire.ContactsEnvelope).contacts:
                if found.contact_number == account_reference:
                    return found
        if '"' in account_reference:
            return None
        response = self._http.api(
            "GET",
            "/Contacts",
            params={
                "where": f'AccountNumber=="{account_reference}"',
                "includeArchived": "true",
            },
            kind="contact",
        )
        for found in wire.read(response.content, wire.ContactsEnvelope).contacts:
            if found.account_number == account_reference:
                return found
        return None

    def cached(self, account_reference: str) -> tuple[Contact, ContactRecord] | None:
        """The contact last saved for ``account_reference`` and its record, if known here."""
        with self._lock:
            return self._saved.get(account_reference)

    def remember(self, contact: Contact, record: ContactRecord) -> None:
        """Cache ``record`` as the saved state of ``contact`` (after a batch save)."""
        self._remember(contact, record)

    def replay(self, contact_id: str) -> ContactRecord:
        """The record of a contact created before (cached, else read from Xero)."""
        return self._replay(contact_id)

    def _replay(self, contact_id: str) -> ContactRecord:
        known = self.known(contact_id)
        if known is not None:
            return known
        return self._get(contact_id)

    def _get(self, contact_id: str, fallback: ContactRecord | None = None) -> ContactRecord:
        response = self._http.api(
            "GET", f"/Contacts/{quote(contact_id, safe='')}", kind="contact", resource_id=contact_id
        )
        contacts = wire.read(response.content, wire.ContactsEnvelope).contacts
        if not contacts:
            raise NotFoundError(f"Xero has no contact {contact_id!r}", resource_id=contact_id)
        return to_contact_record(contacts[0], fallback)

    def _remember(self, contact: Contact, record: ContactRecord) -> None:
        with self._lock:
            self._saved[contact.account_reference] = (contact, record)
            self._by_id[record.provider_id] = record

    def _forget(self, account_reference: str) -> None:
        with self._lock:
            cached = self._saved.pop(account_reference, None)
            if cached is not None:
                self._by_id.pop(cached[1].provider_id, None)
