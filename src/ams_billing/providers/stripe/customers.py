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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from ams_billing.core.errors import NotFoundError
from ams_billing.core.idempotency import IdempotentCalls, Outcome, OutcomeCodec
from ams_billing.core.ledger import IdempotencyRecord, RecordState
from ams_billing.core.models import Contact, ContactRecord
from ams_billing.providers.stripe.generations import KeyGenerations
from ams_billing.providers.stripe.keys import stripe_key
from ams_billing.providers.stripe.mapping import ACCOUNT_KEY, to_contact_record
from ams_billing.providers.stripe.transport import StripeHttp

__all__ = ["LEDGER_PREFIX", "LOOKBACK", "StripeCustomers"]

LEDGER_PREFIX = "ams-billing/stripe/customer/"
"""Where the ledger remembers the customer id of an account reference."""

LOOKBACK = timedelta(days=2)
"""How far back a create's look-up lists customers without an email (Stripe's key window is a
day; the rest covers a difference of clocks)."""

_OPERATION = "create_contact"
_REMEMBERED = "stripe_customer"
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

    def create_contact(self, contact: Contact, idempotency_key: str) -> ContactRecord:
        """The ``create_contact`` operation: an upsert on the account reference, once per key.

        After an unknown outcome the upsert runs again without a look-up first: it finds what
        a lost attempt made (the ledger, search, or Stripe's replay of the same create).
        """
        return self._once.run(
            idempotency_key,
            _OPERATION,
            contact,
            call=lambda: self.save(contact, idempotency_key, force=True),
            codec=self.codec,
        )

    def resolve(self, contact: Contact, caller_key: str) -> ContactRecord:
        """The customer an invoice is for: cached if unchanged, else found or created."""
        return self.save(contact, caller_key, force=False)

    def save(self, contact: Contact, caller_key: str, *, force: bool) -> ContactRecord:
        """Create or update the customer of ``contact.account_reference``."""
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
                return self._update(contact, customer_id, caller_key)
            except NotFoundError:
                self._forget(reference)
        return self._create(contact)

    def _create(self, contact: Contact) -> ContactRecord:
        # Keyed on the reference, not the caller's key: any create of the same account with
        # the same details within Stripe's window is answered with the first customer.
        created = self._keys.post(
            "/customers",
            customer_params(contact),
            stem=stripe_key("customer", contact.account_reference),
            find=lambda: self._made(contact),
            fields=_FIELDS,
        )
        record = to_contact_record(created)
        self._remember(contact, record)
        return record

    def _update(self, contact: Contact, customer_id: str, caller_key: str) -> ContactRecord:
        updated = self._keys.post(
            f"/customers/{quote(customer_id, safe='')}",
            customer_params(contact),
            stem=stripe_key("customer-update", caller_key, customer_id),
            find=lambda: None,  # an update makes nothing: sending it again is harmless
            resource_id=customer_id,
            fields=_FIELDS,
        )
        if updated.get("deleted"):
            raise NotFoundError(f"Stripe's customer {customer_id!r} was deleted")
        record = to_contact_record(updated)
        self._remember(contact, record)
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
