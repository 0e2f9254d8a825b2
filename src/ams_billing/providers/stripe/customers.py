"""Customers upserted per account: the account reference in ``metadata[ams_account]``.

Stripe keeps nothing unique on a customer (2), so this provider finds the account's customer
in three places, in order, and creates one only when all three come up empty:

1. this instance's cache (the customer last saved for the reference);
2. the durable ledger (:class:`~ams_billing.core.ledger.IdempotencyStore`), where every
   customer this provider created or found is remembered under the reference: read-after-write
   consistent, across restarts and processes sharing the ledger;
3. search, ``metadata["ams_account"]:"<reference>"``: finds customers made elsewhere (the
   Dashboard, an earlier installation), but only once Stripe has indexed them, which takes
   seconds to an hour (1.6). A customer a lost answer made is not yet in the ledger, and may
   not be in the index: the create then carries the same ``Idempotency-Key`` (derived from the
   reference and the body) as the lost attempt, and Stripe answers with the customer it made,
   for 24 hours; later the index has long caught up.

A customer found is updated in place (name, email) when the contact changed; one created is
remembered in the ledger before anything else is done with it. A 5xx Stripe kept under a
create's key is looked up in the customer list (by email) before the create moves to a new key
(:mod:`~ams_billing.providers.stripe.generations`).

A ``create_contact`` key records in the ledger (under :data:`REQUEST_PREFIX`) the request it
is about to send: the create with its body, or the update of customer X with its body. A retry
of the key after a lost answer repeats exactly that request under the same
``Idempotency-Key``, so Stripe replays it if it applied it, and then reads the customer: the
answer is the customer as held now, and a later update under another key stays. Searching and
updating again instead would write the first details back over the later ones.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from ams_billing.core.errors import NotFoundError, ValidationError
from ams_billing.core.idempotency import IdempotentCalls, Outcome, OutcomeCodec
from ams_billing.core.ledger import IdempotencyRecord, RecordState
from ams_billing.core.models import Contact, ContactRecord
from ams_billing.providers.stripe.generations import KeyGenerations
from ams_billing.providers.stripe.keys import stripe_key
from ams_billing.providers.stripe.mapping import ACCOUNT_KEY, to_contact_record
from ams_billing.providers.stripe.transport import RESEND_WITHIN, StripeHttp

__all__ = ["LEDGER_PREFIX", "LOOKBACK", "REQUEST_PREFIX", "StripeCustomers"]

LEDGER_PREFIX = "ams-billing/stripe/customer/"
"""Where the ledger remembers the customer id of an account reference."""

LOOKBACK = timedelta(days=2)
"""How far back a create's look-up lists customers without an email (Stripe's key window is a
day; the rest covers a difference of clocks)."""

REQUEST_PREFIX = "ams-billing/stripe/contact-request/"
"""Where the ledger keeps the request a ``create_contact`` key sent (the caller's key follows),
until the key's outcome is recorded."""

_OPERATION = "create_contact"
_REMEMBERED = "stripe_customer"
_REQUEST = "stripe_contact_request"
_CREATE_PATH = "/customers"
_FIELDS = {"name": "name", "email": "email", "metadata": "account_reference"}


def customer_params(contact: Contact) -> dict[str, Any]:
    """The parameters that set ``contact`` on a customer (an empty email unsets it)."""
    return {
        "name": contact.name,
        "email": contact.email or "",
        "metadata": {ACCOUNT_KEY: contact.account_reference},
    }


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StripeCustomers:
    """Creates, finds and updates customers; remembers their ids by account reference."""

    def __init__(
        self,
        http: StripeHttp,
        once: IdempotentCalls,
        *,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._http = http
        self._once = once
        self._now = now
        self._keys = KeyGenerations(http, once.store)
        self._lock = threading.Lock()
        self._saved: dict[str, tuple[Contact, ContactRecord]] = {}
        self.codec = OutcomeCodec[ContactRecord](
            keep=lambda saved: Outcome(saved.provider_id),
            replay=lambda record: self.read(record.result or ""),
        )
        """How a contact is kept in the ledger (its customer id) and replayed (read again)."""

    def create_contact(
        self, contact: Contact, idempotency_key: str, *, made: list[bool] | None = None
    ) -> ContactRecord:
        """The ``create_contact`` operation: an upsert on the account reference, once per key.

        After an unknown outcome the request the lost attempt sent is repeated as sent (Stripe
        replays it if it applied it), then the customer is read: the answer is the customer as
        held now (hookspecs.py). Without a recorded request the upsert runs again.

        :param made: ``True`` is appended when this call's ``POST /v1/customers`` made a new
            customer (not a replay, not a customer found and updated, not a recorded key).
        """
        made = [] if made is None else made
        sent: list[bool] = []

        def call() -> ContactRecord:
            sent.append(True)
            return self.save(contact, idempotency_key, force=True, made=made, planned=True)

        def find(record: IdempotencyRecord) -> ContactRecord | None:
            sent.append(True)
            return self._repeat(contact, idempotency_key, made)

        result = self._once.run(
            idempotency_key, _OPERATION, contact, call=call, codec=self.codec, find=find
        )
        if sent:
            self._once.store.delete(REQUEST_PREFIX + idempotency_key)  # the outcome is kept
        return result

    def resolve(self, contact: Contact, caller_key: str) -> ContactRecord:
        """The customer an invoice is for: cached if unchanged, else found or created."""
        return self.save(contact, caller_key, force=False)

    def save(
        self,
        contact: Contact,
        caller_key: str,
        *,
        force: bool,
        made: list[bool] | None = None,
        planned: bool = False,
    ) -> ContactRecord:
        """Create or update the customer of ``contact.account_reference``.

        ``made`` hears ``True`` when a new customer is made; ``planned`` records the request
        in the ledger under ``caller_key`` before it is sent (``create_contact``).
        """
        plan = caller_key if planned else None
        reference = contact.account_reference
        with self._lock:
            cached = self._saved.get(reference)
        if cached is not None and not force and cached[0] == contact:
            return cached[1]
        customer_id = cached[1].provider_id if cached is not None else self._remembered(reference)
        if customer_id is None:
            customer_id = self._search(reference)
        if customer_id is not None:
            try:
                return self._update(contact, customer_id, caller_key, plan)
            except NotFoundError:
                self._forget(reference)
        return self._create(contact, plan, made)

    def _create(
        self, contact: Contact, plan: str | None = None, made: list[bool] | None = None
    ) -> ContactRecord:
        # Keyed on the reference, not the caller's key: any create of the same account with
        # the same details within Stripe's window is answered with the first customer.
        params = customer_params(contact)
        stem = stripe_key("customer", contact.account_reference)
        if plan is not None:
            self._plan(plan, _CREATE_PATH, params, stem)
        created, fresh = self._keys.post_fresh(
            _CREATE_PATH, params, stem=stem, find=lambda: self._made(contact), fields=_FIELDS
        )
        record = to_contact_record(created)
        self._remember(contact, record)
        if fresh and made is not None:
            made.append(True)
        return record

    def _update(
        self, contact: Contact, customer_id: str, caller_key: str, plan: str | None = None
    ) -> ContactRecord:
        path = f"/customers/{quote(customer_id, safe='')}"
        params = customer_params(contact)
        stem = stripe_key("customer-update", caller_key, customer_id)
        if plan is not None:
            self._plan(plan, path, params, stem)
        updated = self._keys.post(
            path,
            params,
            stem=stem,
            find=lambda: None,  # an update makes nothing: sending it again is harmless
            resource_id=customer_id,
            fields=_FIELDS,
        )
        if updated.get("deleted"):
            raise NotFoundError(f"Stripe's customer {customer_id!r} was deleted")
        record = to_contact_record(updated)
        self._remember(contact, record)
        return record

    def _plan(self, caller_key: str, path: str, params: Mapping[str, Any], stem: str) -> None:
        """Record, before sending it, the request ``caller_key`` is about to send."""
        sent = {"path": path, "params": params, "stem": stem, "at": self._now().timestamp()}
        self._once.store.put(
            REQUEST_PREFIX + caller_key,
            IdempotencyRecord(_REQUEST, "", RecordState.DONE, json.dumps(sent)),
        )

    def _planned(self, caller_key: str) -> dict[str, Any] | None:
        record = self._once.store.get(REQUEST_PREFIX + caller_key)
        if record is None or not record.result:
            return None
        try:
            sent = json.loads(record.result)
        except ValueError:
            return None
        if not isinstance(sent, dict) or not {"path", "params", "stem", "at"} <= set(sent):
            return None
        return sent

    def _repeat(self, contact: Contact, caller_key: str, made: list[bool]) -> ContactRecord | None:
        """After a lost answer: repeat the request as sent, then the customer as held now.

        ``None`` (nothing recorded, the repeat refused, the customer gone): the routine saves
        again, as for a first attempt.
        """
        sent = self._planned(caller_key)
        if sent is None:
            return None
        path, creates = str(sent["path"]), sent["path"] == _CREATE_PATH
        customer_id: str | None
        if creates:
            # A customer the lost create made, found by a look-up that writes nothing, is the
            # answer as held now. Only when none is found is the create repeated: a repeat
            # Stripe no longer replays (its key pruned, whatever this process's clock says)
            # would otherwise make a second customer.
            customer_id = self._remembered(contact.account_reference) or self._search(
                contact.account_reference
            )
            if customer_id is None:
                found = self._made(contact)
                customer_id = None if found is None else str(found["id"])
            if customer_id is not None:
                return self._held(contact, customer_id)
        if self._now().timestamp() - float(sent["at"]) > RESEND_WITHIN:
            # Stripe may have pruned the key: a repeat could apply the first details again.
            # The customer it was about, if known, is the answer as held now.
            customer_id = (
                self._remembered(contact.account_reference) if creates else path.rsplit("/", 1)[-1]
            )
            return None if customer_id is None else self._held(contact, customer_id)
        try:
            answer, fresh = self._keys.post_fresh(
                path,
                sent["params"],
                stem=str(sent["stem"]),
                find=(lambda: self._made(contact)) if creates else (lambda: None),
                resource_id=None if creates else path.rsplit("/", 1)[-1],
                fields=_FIELDS,
            )
        except (ValidationError, NotFoundError):
            return None  # refused, so the lost attempt made nothing: save as a first attempt
        if not isinstance(answer, Mapping) or answer.get("deleted") or not answer.get("id"):
            return None
        held = self._held(contact, str(answer["id"]))
        if held is not None and creates and fresh:
            made.append(True)  # the lost attempt was not applied: this repeat made it
        return held

    def _held(self, contact: Contact, customer_id: str) -> ContactRecord | None:
        """The customer as held now, remembered for the reference (``None``: deleted)."""
        reference = contact.account_reference
        try:
            record = self.read(customer_id)
        except NotFoundError:
            return None
        with self._lock:
            cached = self._saved.get(reference)
            if cached is not None and cached[1].provider_id == customer_id and cached[1] != record:
                del self._saved[reference]  # changed since it was saved: the next save sends
        if self._remembered(reference) is None:
            self._once.store.put(
                LEDGER_PREFIX + reference,
                IdempotencyRecord(_REMEMBERED, "", RecordState.DONE, customer_id),
            )
        return record

    def _made(self, contact: Contact) -> Mapping[str, Any] | None:
        """The account's customer a create may have made, read consistently (lists, not search).

        A create's key carries its body, so what it made has exactly the contact's email: the
        list filtered by that email finds it. Without an email, the customers created in the
        last :data:`LOOKBACK` (Stripe keeps a key at most a day) are listed.
        """
        params: dict[str, Any] = {"limit": 100}
        if contact.email:
            params["email"] = contact.email
        else:
            params["created"] = {"gte": int((self._now() - LOOKBACK).timestamp())}
        after: str | None = None
        for _ in range(10_000):  # bounded: a million customers
            page = self._http.get(
                "/customers", {**params, **({"starting_after": after} if after else {})}
            )
            data = [c for c in page.get("data", []) if isinstance(c, Mapping)]
            for customer in data:
                metadata = customer.get("metadata") or {}
                if not customer.get("deleted") and (
                    metadata.get(ACCOUNT_KEY) == contact.account_reference
                ):
                    return customer
            if not page.get("has_more") or not data:
                return None
            after = str(data[-1]["id"])
        return None

    def _search(self, reference: str) -> str | None:
        if '"' in reference or "\\" in reference:
            return None  # not expressible in a search query; the ledger is the way then
        found = self._http.get(
            "/customers/search",
            {"query": f'metadata["{ACCOUNT_KEY}"]:"{reference}"', "limit": 100},
            search=True,
        )
        candidates = [
            c
            for c in found.get("data", [])
            if isinstance(c, Mapping)
            and not c.get("deleted")
            and (c.get("metadata") or {}).get(ACCOUNT_KEY) == reference
        ]
        if not candidates:
            return None
        oldest = min(candidates, key=lambda c: (c.get("created") or 0, str(c.get("id"))))
        return str(oldest["id"])

    def read(self, customer_id: str) -> ContactRecord:
        """The customer as Stripe holds it now (a deleted one raises ``NotFoundError``)."""
        data = self._http.get(f"/customers/{quote(customer_id, safe='')}", resource_id=customer_id)
        if data.get("deleted"):
            raise NotFoundError(
                f"Stripe's customer {customer_id!r} was deleted", resource_id=customer_id
            )
        return to_contact_record(data)

    def _remembered(self, reference: str) -> str | None:
        record = self._once.store.get(LEDGER_PREFIX + reference)
        if record is None or record.state is not RecordState.DONE:
            return None
        return record.result

    def _remember(self, contact: Contact, record: ContactRecord) -> None:
        with self._lock:
            self._saved[contact.account_reference] = (contact, record)
        if self._remembered(contact.account_reference) != record.provider_id:
            self._once.store.put(
                LEDGER_PREFIX + contact.account_reference,
                IdempotencyRecord(_REMEMBERED, "", RecordState.DONE, record.provider_id),
            )

    def _forget(self, reference: str) -> None:
        with self._lock:
            self._saved.pop(reference, None)
        self._once.store.delete(LEDGER_PREFIX + reference)
