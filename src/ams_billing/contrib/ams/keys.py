"""Idempotency keys derived from the AMS's rows and the request, so a repeat never bills twice.

The AMS's ``create_invoice(account, date, due_date, line_items, reference)`` is not given the
membership it bills, so the key is made of what the call and the AMS's rows say:

- the billing account;
- the account's latest invoice row before this call: a call that succeeded wrote a row, so the
  next purchase, even an identical one on the same day (a second seat), gets a new key, while a
  retry of a call that did not get as far as a committed row (a timeout, a lost response, a
  crash, a rolled-back transaction, a double submit racing the first) gets the same one;
- a digest of everything the invoice would contain (not the contact's name: renaming a member
  must not turn a retry into a second invoice).

With the same key the provider returns the invoice it already raised, never a second one.
"""

from __future__ import annotations

import hashlib
import json

from ams_billing.core.convert import unstructure
from ams_billing.core.models import Contact, InvoiceRequest

__all__ = ["contact_key", "invoice_key"]


def _digest(value: object) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def contact_key(account_pk: object, contact: Contact) -> str:
    """The key of one version of an account's contact details: a change is a new upsert."""
    return f"ams:contact:account-{account_pk}:{_digest(unstructure(contact))}"


def invoice_key(account_pk: object, latest_row_pk: object, request: InvoiceRequest) -> str:
    """The key of the account's next invoice after row ``latest_row_pk`` (None: its first)."""
    content = unstructure(request)
    content.pop("contact", None)  # renaming the member must not make a retry a new invoice
    after = latest_row_pk if latest_row_pk is not None else 0
    return f"ams:invoice:account-{account_pk}:after-{after}:{_digest(content)}"
