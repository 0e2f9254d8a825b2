"""Bulk creates: contacts and invoices :data:`BATCH_SIZE` to a request, each item on its own key.

Billing N new members costs ``ceil(N/50)`` ``POST /Contacts`` plus ``ceil(N/50)``
``PUT /Invoices`` calls (contacts this instance saved before, unchanged, cost nothing). Every
batch is sent with ``summarizeErrors=false`` because Xero's batches are not transactional: the
good elements of a batch are created even when others fail, so each element's
``StatusAttributeString`` / ``ValidationErrors`` decides its item's result, matched by position.

The per-item guarantees are those of the single operations:

- the ledger answers a key seen before (``EXISTING``, read back 50 ids per call) or refuses a key
  reused for another request (:class:`~ams_billing.core.errors.IdempotencyConflictError`);
- each chunk carries one ``Idempotency-Key`` derived from its items' keys and its body, so the
  transport's retries of a lost response are answered from Xero's record;
- an item whose chunk ended with an *unknown outcome* stays ``pending``; the next attempt looks
  its invoice up before creating it (see :mod:`~ams_billing.providers.xero.invoices`);
- contact elements refused because the number or name is taken (or a cached ContactID is gone)
  are saved again one by one through the single path, which finds, renames or re-creates them.

The first failure of a whole chunk (Xero unreachable, rate limit, credentials) fails that chunk
and every later item with the same error, without calling: a retry with the same keys resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

import attrs

from ams_billing.core.batch import BatchItem, BatchOutcome, BatchResult
from ams_billing.core.errors import (
    BillingError,
    IdempotencyConflictError,
    NotFoundError,
    ProviderUnavailableError,
)
from ams_billing.core.idempotency import IdempotentCalls, KeyEntry
from ams_billing.core.ledger import IdempotencyRecord
from ams_billing.core.models import Contact, ContactRecord, Invoice, InvoiceRequest
from ams_billing.providers.xero import wire
from ams_billing.providers.xero.contacts import NAME_TAKEN, NUMBER_TAKEN, XeroContacts
from ams_billing.providers.xero.errors import element_messages, validation_error
from ams_billing.providers.xero.invoices import XeroInvoices, locate_lines
from ams_billing.providers.xero.ledger import xero_key
from ams_billing.providers.xero.mapping import (
    contact_payload,
    invoice_payload,
    needs_unitdp4,
    to_contact_record,
    to_invoice,
)
from ams_billing.providers.xero.settings import XeroSettings, default_invoice_fields
from ams_billing.providers.xero.transport import XeroHttp

__all__ = ["BATCH_SIZE", "XeroBatches"]

BATCH_SIZE = 50
"""Elements per ``POST /Contacts`` or ``PUT /Invoices`` (Xero recommends up to 50)."""

T = TypeVar("T")
Saved = tuple[ContactRecord, bool] | BillingError
"""A contact saved (and whether it was created), or why not."""


def _chunks(values: Sequence[T]) -> list[Sequence[T]]:
    return [values[start : start + BATCH_SIZE] for start in range(0, len(values), BATCH_SIZE)]


def _batch_key(operation: str, keys: Sequence[str]) -> str:
    return xero_key(operation, "\0".join(keys))


def _ok(element: Any) -> bool:
    return not list(element_messages(element)) and element.status_attribute_string != "ERROR"


class XeroBatches:
    """The bulk operations over the provider's contacts, invoices, ledger and locks."""

    def __init__(
        self,
        http: XeroHttp,
        contacts: XeroContacts,
        invoices: XeroInvoices,
        *,
        settings: XeroSettings,
        once: IdempotentCalls,
    ) -> None:
        self._http = http
        self._contacts = contacts
        self._invoices = invoices
        self._settings = settings
        self._defaults = default_invoice_fields(settings)
        self._once = once

    # -- contacts ----------------------------------------------------------------------

    def create_contacts(
        self, items: Sequence[BatchItem[Contact]]
    ) -> list[BatchResult[ContactRecord]]:
        """The ``create_contacts`` operation: one ``POST /Contacts`` per 50 new or changed."""
        results: list[BatchResult[ContactRecord] | None] = [None] * len(items)
        entries: dict[int, KeyEntry] = {}
        with self._once.hold(*(item.idempotency_key for item in items)):
            for index, item in enumerate(items):
                entry = self._look_up(index, item, "create_contact", results)
                if entry is not None and entry.record is not None and entry.done:
                    replay = self._contacts.codec.replay
                    results[index] = _attempt(index, item.idempotency_key, replay, entry.record)
                elif entry is not None:
                    self._once.mark_pending(entry)
                    entries[index] = entry
            todo = sorted(entries)
            pairs = [(items[i].request, items[i].idempotency_key) for i in todo]
            lost = {items[i].idempotency_key for i in todo if entries[i].pending}
            saves = self.save_contacts(pairs, force=True, lost=lost)
            for index, saved in zip(todo, saves, strict=True):
                key = items[index].idempotency_key
                if isinstance(saved, BillingError):
                    self._once.settle(entries[index], saved)
                    results[index] = _failed(index, key, saved)
                    continue
                record, created = saved
                if entries[index].pending:
                    # After a lost answer Xero may replay its first answer to the same key:
                    # the contact the lost attempt saved is read as held now, and is EXISTING.
                    record, created = self._contacts.read(record.provider_id), False
                self._once.record(entries[index], self._contacts.codec.keep(record))
                outcome = BatchOutcome.CREATED if created else BatchOutcome.EXISTING
                results[index] = BatchResult(index, key, outcome, result=record)
        return _complete(results)

    def _look_up(
        self,
        index: int,
        item: BatchItem[Any],
        operation: str,
        results: list[BatchResult[Any] | None],
    ) -> KeyEntry | None:
        """The item's key in the ledger; ``None`` (and the item failed) if it conflicts."""
        try:
            return self._once.look_up(item.idempotency_key, operation, item.request)
        except IdempotencyConflictError as error:
            results[index] = _failed(index, item.idempotency_key, error)
            return None

    def save_contacts(
        self,
        pairs: Sequence[tuple[Contact, str]],
        *,
        force: bool,
        lost: Collection[str] = (),
    ) -> list[Saved]:
        """Save contacts (with the caller's keys) 50 per request; identical ones once.

        Without ``force`` a contact this instance saved before, unchanged, costs no call. The
        contacts of the keys in ``lost`` (an earlier answer lost) go without the ContactID
        cached since, so the request repeats the lost one, which Xero replays if it made it.
        """
        out: list[Saved | None] = [None] * len(pairs)
        first: dict[Contact, int] = {}
        send: list[int] = []
        for position, (contact, _) in enumerate(pairs):
            cached = self._contacts.cached(contact.account_reference)
            if cached is not None and not force and cached[0] == contact:
                out[position] = (cached[1], False)
            elif contact not in first:
                first[contact] = position
                send.append(position)
        stop: BillingError | None = None
        for chunk in _chunks(send):
            if stop is not None:
                for position in chunk:
                    out[position] = stop
                continue
            try:
                self._post_contacts([pairs[p] for p in chunk], chunk, out, lost)
            except BillingError as error:
                stop = error
                for position in chunk:
                    out[position] = error
        for position, (contact, _) in enumerate(pairs):
            if out[position] is None:
                earlier = out[first[contact]]
                out[position] = (earlier[0], False) if isinstance(earlier, tuple) else earlier
        return [saved for saved in out if saved is not None]

    def _post_contacts(
        self,
        pairs: Sequence[tuple[Contact, str]],
        positions: Sequence[int],
        out: list[Saved | None],
        lost: Collection[str] = (),
    ) -> None:
        ids: list[str | None] = []
        for contact, key in pairs:
            cached = None if key in lost else self._contacts.cached(contact.account_reference)
            ids.append(cached[1].provider_id if cached is not None else None)
        body = [
            wire.unstructure(contact_payload(contact, contact_id=contact_id))
            for (contact, _), contact_id in zip(pairs, ids, strict=True)
        ]
        response = self._http.api(
            "POST",
            "/Contacts",
            params={"summarizeErrors": "false"},
            body={"Contacts": body},
            idempotency_key=_batch_key("contacts", [key for _, key in pairs]),
            kind="contact",
        )
        elements = wire.read(response.content, wire.ContactsEnvelope).contacts
        if len(elements) != len(pairs):
            raise ProviderUnavailableError(
                f"Xero answered {len(elements)} contacts for {len(pairs)}; retry with the same keys"
            )
        for position, (contact, key), element, contact_id in zip(
            positions, pairs, elements, ids, strict=True
        ):
            out[position] = self._contact_outcome(contact, key, element, contact_id)

    def _contact_outcome(
        self, contact: Contact, key: str, element: wire.WireContact, contact_id: str | None
    ) -> Saved:
        if _ok(element):
            try:
                record = attrs.evolve(to_contact_record(element), name=contact.name)
            except BillingError as error:
                return error
            self._contacts.remember(contact, record)
            return record, contact_id is None
        messages = list(element_messages(element))
        texts = " ".join(message for _, message in messages)
        number_taken = contact_id is None and NUMBER_TAKEN.search(texts)
        name_taken = bool(NAME_TAKEN.search(texts))
        if number_taken or name_taken or "not found" in texts.lower():
            # The single path knows how to find, rename or re-create it; a name Xero just
            # refused is not sent again as it was.
            try:
                record = self._contacts.save(
                    contact, key, force=True, name_taken=name_taken and not number_taken
                )
            except BillingError as error:
                return error
            return record, contact_id is None and not number_taken
        return validation_error(messages, "contact", key)

    # -- invoices ----------------------------------------------------------------------

    def create_invoices(
        self, items: Sequence[BatchItem[InvoiceRequest]]
    ) -> list[BatchResult[Invoice]]:
        """The ``create_invoices`` operation: contacts first, then one ``PUT`` per 50."""
        results: list[BatchResult[Invoice] | None] = [None] * len(items)
        with self._once.hold(*(item.idempotency_key for item in items)):
            entries: dict[int, KeyEntry] = {}
            replays: dict[int, str] = {}
            pending: list[int] = []
            fresh: list[int] = []
            for index, item in enumerate(items):
                entry = self._look_up(index, item, "create_invoice", results)
                if entry is None:
                    continue
                entries[index] = entry
                if entry.record is not None and entry.done:
                    replays[index] = entry.record.result or ""
                elif entry.pending:
                    pending.append(index)
                else:
                    fresh.append(index)
            self._replay_invoices(items, replays, results)
            contacts = self._invoice_contacts(items, sorted(pending + fresh), results)
            fresh += self._recover(items, pending, contacts, entries, results)
            todo = sorted(i for i in fresh if i in contacts and results[i] is None)
            stop: BillingError | None = None
            for chunk in _chunks(todo):
                if stop is None:
                    stop = self._put_invoices(items, chunk, contacts, entries, results)
                else:
                    for index in chunk:
                        results[index] = _failed(index, items[index].idempotency_key, stop)
        return _complete(results)

    def _replay_invoices(
        self,
        items: Sequence[BatchItem[InvoiceRequest]],
        replays: dict[int, str],
        results: list[BatchResult[Invoice] | None],
    ) -> None:
        if not replays:
            return
        failure: BillingError | None = None
        try:
            found = {i.provider_id: i for i in self._invoices.get_many(list(replays.values()))}
        except BillingError as read_error:
            found, failure = {}, read_error
        for index, invoice_id in replays.items():
            key = items[index].idempotency_key
            invoice = found.get(invoice_id)
            if invoice is not None:
                results[index] = BatchResult(index, key, BatchOutcome.EXISTING, result=invoice)
            else:
                missing = failure or NotFoundError(
                    f"Xero has no invoice {invoice_id!r}", resource_id=invoice_id
                )
                results[index] = _failed(index, key, missing)

    def _invoice_contacts(
        self,
        items: Sequence[BatchItem[InvoiceRequest]],
        indexes: Sequence[int],
        results: list[BatchResult[Invoice] | None],
    ) -> dict[int, ContactRecord]:
        pairs = [(items[i].request.contact, f"invoice:{items[i].idempotency_key}") for i in indexes]
        contacts: dict[int, ContactRecord] = {}
        for index, saved in zip(indexes, self.save_contacts(pairs, force=False), strict=True):
            if isinstance(saved, BillingError):
                results[index] = _failed(index, items[index].idempotency_key, saved)
            else:
                contacts[index] = saved[0]
        return contacts

    def _recover(
        self,
        items: Sequence[BatchItem[InvoiceRequest]],
        pending: Sequence[int],
        contacts: dict[int, ContactRecord],
        entries: dict[int, KeyEntry],
        results: list[BatchResult[Invoice] | None],
    ) -> list[int]:
        """Look up the invoices of pending keys; return the items still to create."""
        again = []
        for index in pending:
            if index not in contacts:
                continue
            key = items[index].idempotency_key
            try:
                found = self._invoices.find_created(items[index].request, contacts[index])
            except BillingError as error:
                results[index] = _failed(index, key, error)
                continue
            if found is None:
                again.append(index)
            else:
                self._once.record(entries[index], self._invoices.codec.keep(found))
                results[index] = BatchResult(index, key, BatchOutcome.EXISTING, result=found)
        return again

    def _put_invoices(
        self,
        items: Sequence[BatchItem[InvoiceRequest]],
        chunk: Sequence[int],
        contacts: dict[int, ContactRecord],
        entries: dict[int, KeyEntry],
        results: list[BatchResult[Invoice] | None],
    ) -> BillingError | None:
        """PUT one chunk; return the error that failed the whole chunk, if one did."""
        keys = [items[i].idempotency_key for i in chunk]
        for index in chunk:
            self._once.mark_pending(entries[index])
        params = {"summarizeErrors": "false"}
        if any(needs_unitdp4(items[i].request) for i in chunk):
            params["unitdp"] = "4"
        body = [
            wire.unstructure(
                invoice_payload(items[i].request, contacts[i].provider_id, self._defaults)
            )
            for i in chunk
        ]
        try:
            response = self._http.api(
                "PUT",
                "/Invoices",
                params=params,
                body={"Invoices": body},
                idempotency_key=_batch_key("invoices", keys),
            )
            elements = wire.read(response.content, wire.InvoicesEnvelope).invoices
            if len(elements) != len(chunk):
                raise ProviderUnavailableError(
                    f"Xero answered {len(elements)} invoices for {len(chunk)}; "
                    "retry with the same keys"
                )
        except BillingError as error:
            for index, key in zip(chunk, keys, strict=True):
                self._once.settle(entries[index], error)  # the rule: forget or keep pending
                results[index] = _failed(index, key, error)
            return error
        for index, element in zip(chunk, elements, strict=True):
            results[index] = self._invoice_outcome(
                items[index], entries[index], index, element, contacts
            )
        return None

    def _invoice_outcome(
        self,
        item: BatchItem[InvoiceRequest],
        entry: KeyEntry,
        index: int,
        element: wire.WireInvoice,
        contacts: dict[int, ContactRecord],
    ) -> BatchResult[Invoice]:
        key = item.idempotency_key
        try:
            if not _ok(element):
                messages = list(element_messages(element))
                raise locate_lines(validation_error(messages, "invoice", key), item.request)
            invoice = to_invoice(element, contacts[index])
        except BillingError as error:  # refused: forgotten; unreadable: kept pending
            self._once.settle(entry, error)
            return _failed(index, key, error)
        self._once.record(entry, self._invoices.codec.keep(invoice))
        return BatchResult(index, key, BatchOutcome.CREATED, result=invoice)


def _failed(index: int, key: str, error: BillingError) -> BatchResult[Any]:
    return BatchResult(index, key, BatchOutcome.FAILED, error=error)


def _attempt(
    index: int,
    key: str,
    replay: Callable[[IdempotencyRecord], ContactRecord],
    record: IdempotencyRecord,
) -> BatchResult[ContactRecord]:
    try:
        return BatchResult(index, key, BatchOutcome.EXISTING, result=replay(record))
    except BillingError as error:
        return _failed(index, key, error)


def _complete(results: Sequence[BatchResult[T] | None]) -> list[BatchResult[T]]:
    done = [result for result in results if result is not None]
    if len(done) != len(results):  # pragma: no cover - every branch above sets a result
        raise ProviderUnavailableError("a batch item was left without a result")
    return done
