"""Sending an invoice: ``POST /v1/invoices/{id}/send``, once per caller key.

Stripe emails the customer a link to the hosted invoice page. In test mode it sends nothing
but still emits ``invoice.sent`` (3.7). The ledger replays a key it recorded; within 24 hours
Stripe replays the ``/send`` itself. A key left pending by an unknown outcome is looked up in
the events (``invoice.sent`` whose ``request.idempotency_key`` is this send's key, kept 30 days)
before anything is sent again, so a lost answer never emails the member twice.

One request per send: the invoice is not read first. The recipient is the invoice passed in,
whose contact is Stripe's snapshot taken at finalization (``customer_email``; the declared
``ContactView.SNAPSHOT``), so an invoice without an address is skipped without a call. An
invoice the caller holds as a draft, void or deleted is refused at once; one that changed
since it was read is refused by Stripe's ``/send`` (400, ``invoice_not_editable`` or a draft's
refusal), which is raised as :class:`~ams_billing.core.errors.InvalidStateError` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ams_billing.core.email_codec import email_result_codec
from ams_billing.core.errors import InvalidStateError, ValidationError
from ams_billing.core.idempotency import IdempotentCalls
from ams_billing.core.models import EmailSkipReason, Invoice, InvoiceEmailResult, InvoiceStatus
from ams_billing.providers.stripe.generations import KeyGenerations
from ams_billing.providers.stripe.invoices import StripeInvoices
from ams_billing.providers.stripe.keys import stripe_key
from ams_billing.providers.stripe.transport import StripeHttp

__all__ = ["StripeEmails"]

_OPERATION = "send_invoice"
_SENDABLE = frozenset({InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE})


class StripeEmails:
    """Sends invoices through Stripe, once per key."""

    def __init__(self, http: StripeHttp, invoices: StripeInvoices, once: IdempotentCalls) -> None:
        self._http = http
        self._invoices = invoices
        self._once = once
        self._keys = KeyGenerations(http, once.store)

    def send(self, invoice: Invoice, idempotency_key: str) -> InvoiceEmailResult:
        """Have Stripe email the invoice to its customer (or say why not)."""
        invoice_id = invoice.provider_id
        key = stripe_key("send", idempotency_key, invoice_id)

        def call() -> InvoiceEmailResult:
            if invoice.status not in _SENDABLE:
                raise InvalidStateError(
                    f"Stripe sends only issued invoices; {invoice_id!r} is {invoice.status.value}",
                    resource_id=invoice_id,
                )
            recipient = invoice.contact.email
            if not recipient:
                return InvoiceEmailResult(
                    invoice_id, sent=False, skipped_reason=EmailSkipReason.NO_RECIPIENT
                )
            try:
                self._keys.post(
                    f"/invoices/{quote(invoice_id, safe='')}/send",
                    {},
                    stem=key,
                    find=lambda: self._sent_event(invoice_id, key),
                    resource_id=invoice_id,
                )
            except (InvalidStateError, ValidationError) as refused:
                # /send takes no parameters: a 400 is a refusal of the invoice's state.
                raise InvalidStateError(
                    f"Stripe refused to send {invoice_id!r} (only an open, paid or "
                    f"uncollectible invoice is sent): {refused}",
                    resource_id=invoice_id,
                ) from None
            return InvoiceEmailResult(invoice_id, sent=True, recipient=recipient)

        def find(_: object) -> InvoiceEmailResult | None:
            sent = self._sent_event(invoice_id, key)
            if sent is None:
                return None
            return InvoiceEmailResult(invoice_id, sent=True, recipient=sent.get("customer_email"))

        return self._once.run(
            idempotency_key,
            _OPERATION,
            invoice_id,
            call=call,
            codec=email_result_codec(invoice_id),
            find=find,
        )

    def _sent_event(self, invoice_id: str, key: str) -> Mapping[str, Any] | None:
        """The invoice as an ``invoice.sent`` event under ``key`` (any generation) left it."""
        for event in self._invoices.pages("/events", {"type": "invoice.sent"}):
            request = event.get("request") or {}
            obj = (event.get("data") or {}).get("object") or {}
            sent_key = str(request.get("idempotency_key") or "")
            if obj.get("id") == invoice_id and sent_key.startswith(key):
                found: Mapping[str, Any] = obj
                return found
        return None
