"""Invoice emails through Xero (``POST /Invoices/{id}/Email``), and knowing when they cannot go.

Xero sends the invoice to the contact's address with the organisation's template and answers
204. It refuses with a 400 when the invoice's status does not allow it (not SUBMITTED,
AUTHORISED or PAID), when the daily email allowance is spent, and always on a Demo Company
(its allowance is 0). The provider tells these apart:

- ``XERO_EMAIL_INVOICES=False``: nothing is sent; the result says ``EMAILS_DISABLED``;
- a Demo Company (``GET /Organisation`` ``IsDemoCompany``, asked once and only if emails are on;
  a token without a settings scope cannot ask, and then the first refused email tells):
  :class:`~ams_billing.core.errors.UnsupportedOperationError`, and ``SEND_INVOICE`` leaves the
  capabilities;
- a wrong status: :class:`~ams_billing.core.errors.InvalidStateError`;
- the allowance spent: :class:`~ams_billing.core.errors.RateLimitedError` (``limit="email"``).

The recipient whitelist (``AMS_BILLING_EMAIL_WHITELIST_REGEX``) is the core's policy, applied
before this provider is called. The caller's idempotency key is recorded in the ledger and
sent as ``Idempotency-Key``, so one key never emails twice; after an unknown outcome the
invoice's ``SentToContact`` is checked before sending again.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

from ams_billing.core.errors import (
    AuthenticationError,
    InvalidStateError,
    ProviderUnavailableError,
    RateLimitedError,
    UnsupportedOperationError,
)
from ams_billing.core.idempotency import IdempotentCalls, Outcome, OutcomeCodec
from ams_billing.core.ledger import IdempotencyRecord
from ams_billing.core.models import (
    Capability,
    EmailSkipReason,
    Invoice,
    InvoiceEmailResult,
    InvoiceStatus,
)
from ams_billing.providers.xero import wire
from ams_billing.providers.xero.errors import exception_messages, validation_error
from ams_billing.providers.xero.ledger import xero_key
from ams_billing.providers.xero.settings import XeroSettings
from ams_billing.providers.xero.transport import XeroHttp

__all__ = ["EMAILABLE", "XeroEmails"]

EMAILABLE = frozenset({InvoiceStatus.AWAITING_APPROVAL, InvoiceStatus.OPEN, InvoiceStatus.PAID})
"""The statuses in which Xero emails an invoice."""

_OPERATION = "send_invoice"
_SKIPPED = "skipped"


class XeroEmails:
    """Sends invoice emails and knows whether this organisation can."""

    def __init__(self, http: XeroHttp, settings: XeroSettings, once: IdempotentCalls) -> None:
        self._http = http
        self._settings = settings
        self._once = once
        self._lock = threading.Lock()
        self._demo: bool | None = None
        self._asked = False

    def can_send(self) -> bool:
        """Whether emails are switched on and the organisation is not a Demo Company."""
        return self._settings.email_invoices and self.is_demo_company() is not True

    def is_demo_company(self) -> bool | None:
        """``IsDemoCompany`` of the organisation, asked once; ``None`` when it cannot be asked."""
        with self._lock:
            if self._asked:
                return self._demo
        try:
            response = self._http.api("GET", "/Organisation")
        except AuthenticationError:
            # Most likely no accounting.settings(.read) scope: a refused email will tell.
            with self._lock:
                self._asked = True
            return self._demo
        except ProviderUnavailableError:
            return self._demo
        organisations = wire.read(response.content, wire.OrganisationsEnvelope).organisations
        demo = bool(organisations and organisations[0].is_demo_company)
        with self._lock:
            self._asked = True
            self._demo = demo or bool(self._demo)
            return self._demo

    def send(self, invoice: Invoice, idempotency_key: str) -> InvoiceEmailResult:
        """Email ``invoice`` to its contact once per ``idempotency_key``."""
        recipient = invoice.contact.email
        if not self._settings.email_invoices:
            return InvoiceEmailResult(
                invoice.provider_id,
                sent=False,
                recipient=recipient,
                skipped_reason=EmailSkipReason.EMAILS_DISABLED,
            )
        if self._demo:
            raise _demo_error()

        def call() -> InvoiceEmailResult:
            if recipient is None:
                if invoice.status not in EMAILABLE:
                    raise _status_error(invoice, "")
                return InvoiceEmailResult(
                    invoice.provider_id, sent=False, skipped_reason=EmailSkipReason.NO_RECIPIENT
                )
            self._post(invoice, idempotency_key)
            return InvoiceEmailResult(invoice.provider_id, sent=True, recipient=recipient)

        def find(_: IdempotencyRecord) -> InvoiceEmailResult | None:
            if not self._sent_to_contact(invoice.provider_id):
                return None
            return InvoiceEmailResult(invoice.provider_id, sent=True, recipient=recipient)

        return self._once.run(
            idempotency_key,
            _OPERATION,
            invoice.provider_id,
            call=call,
            codec=OutcomeCodec(_keep, lambda record: _result(invoice.provider_id, record)),
            find=find,
        )

    def _sent_to_contact(self, invoice_id: str) -> bool:
        response = self._http.api(
            "GET", f"/Invoices/{quote(invoice_id, safe='')}", resource_id=invoice_id
        )
        invoices = wire.read(response.content, wire.InvoicesEnvelope).invoices
        return bool(invoices and invoices[0].sent_to_contact)

    def _post(self, invoice: Invoice, key: str) -> None:
        response = self._http.api(
            "POST",
            f"/Invoices/{quote(invoice.provider_id, safe='')}/Email",
            body={},
            idempotency_key=xero_key("email", key),
            expect=(200, 204, 400),
            resource_id=invoice.provider_id,
        )
        if response.status_code != 400:
            return
        messages = exception_messages(response)
        text = " ".join(message for _, message in messages).lower()
        if "status" in text:
            raise _status_error(invoice, text)
        if "demo" in text or self.is_demo_company():
            with self._lock:
                self._demo = True
            raise _demo_error()
        if "limit" in text:
            raise RateLimitedError(
                "Xero's daily invoice email allowance for this organisation is spent "
                "(1,000 a day for a paying organisation, 20 on a trial)",
                limit="email",
            )
        raise validation_error(messages, "invoice", key)


def _keep(result: InvoiceEmailResult) -> Outcome:
    return Outcome("sent", result.recipient) if result.sent else Outcome(_SKIPPED)


def _result(invoice_id: str, record: IdempotencyRecord) -> InvoiceEmailResult:
    if record.result == _SKIPPED:
        return InvoiceEmailResult(
            invoice_id, sent=False, skipped_reason=EmailSkipReason.NO_RECIPIENT
        )
    return InvoiceEmailResult(invoice_id, sent=True, recipient=record.detail)


def _status_error(invoice: Invoice, xero_says: str) -> InvalidStateError:
    why = f"Xero refused: {xero_says}" if xero_says else f"it is {invoice.status.value}"
    return InvalidStateError(
        "Xero emails only SUBMITTED, AUTHORISED or PAID invoices; "
        f"{invoice.provider_id!r} cannot be emailed ({why})",
        resource_id=invoice.provider_id,
    )


def _demo_error() -> UnsupportedOperationError:
    return UnsupportedOperationError(
        "Xero sends no invoice emails from a Demo Company; set XERO_EMAIL_INVOICES=False "
        "while the connection is to the Demo Company",
        capability=Capability.SEND_INVOICE.value,
    )
