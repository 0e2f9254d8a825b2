"""Sending an invoice: ``POST /v1/invoices/{id}/send``, once per caller key.

Stripe emails the customer a link to the hosted invoice page. In test mode it sends nothing
but still emits ``invoice.sent`` (3.7). The ledger replays a key it recorded; within 24 hours
Stripe replays the ``/send`` itself. A key left pending by an unknown outcome is looked up in
the events (``invoice.sent`` whose ``request.idempotency_key`` is this send's key, kept 30 days)
before anything is sent again, so a lost answer never emails the member twice.
"""

from __future__ import annotations

from urllib.parse import quote

from ams_billing.core.errors import InvalidStateError
from ams_billing.core.idempotency import IdempotentCalls, json_codec
from ams_billing.core.models import EmailSkipReason, Invoice, InvoiceEmailResult, InvoiceStatus
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
        self._codec = json_codec(InvoiceEmailResult)

    def send(self, invoice: Invoice, idempotency_key: str) -> InvoiceEmailResult:
        """Have Stripe email the invoice to its customer (or say why not)."""
        invoice_id = invoice.provider_id
        key = stripe_key("send", idempotency_key, invoice_id)

        def call() -> InvoiceEmailResult:
            current = self._invoices.get_one(invoice_id)
            if current.status not in _SENDABLE:
                raise InvalidStateError(
                    f"Stripe sends only issued invoices; {invoice_id!r} is {current.status.value}",
                    resource_id=invoice_id,
                )
            if not current.contact.email:
                return InvoiceEmailResult(
                    invoice_id, sent=False, skipped_reason=EmailSkipReason.NO_RECIPIENT
                )
            self._http.post(
                f"/invoices/{quote(invoice_id, safe='')}/send", {}, key=key, resource_id=invoice_id
            )
            recipient = invoice.contact.email or current.contact.email
            return InvoiceEmailResult(invoice_id, sent=True, recipient=recipient)

        def find(_: object) -> InvoiceEmailResult | None:
            params = {"type": "invoice.sent", "limit": 100}
            page = self._http.get("/events", params)
            for event in page.get("data", []):
                request = event.get("request") or {}
                obj = (event.get("data") or {}).get("object") or {}
                sent_key = str(request.get("idempotency_key") or "")
                if obj.get("id") == invoice_id and sent_key.startswith(key):
                    return InvoiceEmailResult(
                        invoice_id, sent=True, recipient=obj.get("customer_email")
                    )
            return None

        return self._once.run(
            idempotency_key, _OPERATION, invoice_id, call=call, codec=self._codec, find=find
        )
