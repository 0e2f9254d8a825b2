"""Sales invoices: create once per key, read by id or by change, online URL, void.

**Never twice.** ``create`` guards the caller's idempotency key three ways:

1. the ledger (:mod:`~ams_billing.providers.xero.ledger`) answers a repeated key from what it
   recorded, or refuses a key reused for another request;
2. the ``PUT /Invoices`` carries an ``Idempotency-Key`` derived from the caller's key, so
   retries of a lost response within Xero's window (six minutes, reportedly) are answered from
   Xero's own record instead of creating again;
3. a key whose earlier attempt ended with an *unknown outcome* (connection dropped after
   sending, 5xx until the retries ran out) is left ``pending`` in the ledger; the next attempt
   first looks for the invoice it may have created —
   ``GET /Invoices?ContactIDs=<id>&createdByMyApp=true&page=N`` — and adopts the one matching
   the request exactly (type, date, due date, reference, currency, amount type and every
   line's description, quantity, unit amount and account code), even long after Xero's key
   has expired. Only when none matches is the invoice created.

The request's ``amount_type`` is what is sent (``LineAmountTypes``); a request that names none
is sent with ``XERO_AMOUNT_TYPE``, as a line that names no account posts to
``XERO_ACCOUNT_CODE``. The ledger keeps the request as sent (unset stays unset), so a retry
replays the invoice the key made even after the operator changed a setting; and the lookup
after an unknown outcome accepts, for a field the request left unset, whatever value the
first attempt's invoice carries, since that attempt may have been made under another setting.

Reads ask for ``unitdp=4`` so unit amounts come back exact, page to get line items, and chunk
ids by :data:`IDS_PER_REQUEST` so URLs stay short.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

import attrs

from ams_billing.core.errors import (
    FieldError,
    IdempotencyConflictError,
    InvalidStateError,
    NotFoundError,
    ProviderUnavailableError,
    ValidationError,
)
from ams_billing.core.idempotency import IdempotentCalls, Outcome, OutcomeCodec
from ams_billing.core.models import ContactRecord, Invoice, InvoiceRequest, InvoiceStatus
from ams_billing.providers.xero import wire
from ams_billing.providers.xero.contacts import XeroContacts
from ams_billing.providers.xero.errors import element_messages, exception_messages, validation_error
from ams_billing.providers.xero.ledger import xero_key
from ams_billing.providers.xero.mapping import invoice_payload, needs_unitdp4, to_invoice
from ams_billing.providers.xero.settings import XeroSettings, default_invoice_fields
from ams_billing.providers.xero.transport import XeroHttp

__all__ = ["IDS_PER_REQUEST", "PAGE_SIZE", "XeroInvoices", "locate_lines"]

IDS_PER_REQUEST = 50
"""Invoice ids per ``GET /Invoices?IDs=...`` (about 1,900 characters of URL)."""

PAGE_SIZE = 1000
"""Invoices per page: Xero's largest ``pageSize``, so a sync of 10,000 changes is 10 reads."""

_OPERATION = "create_invoice"
_PAST_OPEN = frozenset({InvoiceStatus.PAID, InvoiceStatus.VOID, InvoiceStatus.DELETED})


class XeroInvoices:
    """The invoice operations over one :class:`XeroHttp`."""

    def __init__(
        self,
        http: XeroHttp,
        contacts: XeroContacts,
        settings: XeroSettings,
        once: IdempotentCalls,
    ) -> None:
        self._http = http
        self._contacts = contacts
        self._settings = settings
        self._defaults = default_invoice_fields(settings)
        self._once = once
        self.codec = OutcomeCodec[Invoice](
            keep=lambda invoice: Outcome(invoice.provider_id, invoice.contact.provider_id),
            replay=lambda record: self.get_one(record.result or ""),
        )
        """How an invoice is kept in the ledger (its id, its contact's) and replayed (read)."""

    # -- create ------------------------------------------------------------------------

    def create(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        """Raise an OPEN (Xero: AUTHORISED) invoice for ``request`` once per ``idempotency_key``.

        After an unknown outcome the invoice the lost attempt may have made is looked up first
        (:meth:`find_created`); the contact is resolved only when a call needs it.
        """
        contact: list[ContactRecord] = []

        def resolved() -> ContactRecord:
            if not contact:
                contact.append(
                    self._contacts.resolve(request.contact, f"invoice:{idempotency_key}")
                )
            return contact[0]

        return self._once.run(
            idempotency_key,
            _OPERATION,
            request,
            call=lambda: self._put(request, resolved(), idempotency_key),
            codec=self.codec,
            find=lambda _: self._find_created(request, resolved()),
        )

    def find_created(self, request: InvoiceRequest, contact: ContactRecord) -> Invoice | None:
        """The invoice an attempt with an unknown outcome created for ``request``, if any."""
        return self._find_created(request, contact)

    def _put(self, request: InvoiceRequest, contact: ContactRecord, key: str) -> Invoice:
        params = {"summarizeErrors": "false"}
        if needs_unitdp4(request):
            params["unitdp"] = "4"
        payload = invoice_payload(request, contact.provider_id, self._defaults)
        response = self._http.api(
            "PUT",
            "/Invoices",
            params=params,
            body={"Invoices": [wire.unstructure(payload)]},
            idempotency_key=xero_key("invoice", key),
        )
        invoices = wire.read(response.content, wire.InvoicesEnvelope).invoices
        if len(invoices) != 1:
            raise ProviderUnavailableError("Xero answered an invoice create without the invoice")
        element = invoices[0]
        messages = list(element_messages(element))
        if messages or element.status_attribute_string == "ERROR":
            raise locate_lines(validation_error(messages, "invoice", key), request)
        return to_invoice(element, contact)

    def _find_created(self, request: InvoiceRequest, contact: ContactRecord) -> Invoice | None:
        wanted = invoice_payload(request, contact.provider_id, self._defaults)
        params = {"ContactIDs": contact.provider_id, "createdByMyApp": "true"}
        for candidate in self._pages(params):
            if _same_invoice(candidate, wanted, request):
                return to_invoice(candidate, contact)
        return None

    # -- reads -------------------------------------------------------------------------

    def get_one(self, invoice_id: str) -> Invoice:
        """Read one invoice; raise NotFoundError when Xero has none with this id."""
        response = self._http.api(
            "GET",
            f"/Invoices/{quote(invoice_id, safe='')}",
            params={"unitdp": "4"},
            resource_id=invoice_id,
        )
        invoices = wire.read(response.content, wire.InvoicesEnvelope).invoices
        if not invoices:
            raise NotFoundError(f"Xero has no invoice {invoice_id!r}", resource_id=invoice_id)
        return self._map(invoices[0])

    def get_many(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        """Read invoices by id, :data:`IDS_PER_REQUEST` per request; unknown ids left out."""
        wanted = [i for i in dict.fromkeys(invoice_ids) if _is_uuid(i)]
        found: dict[str, Invoice] = {}
        for start in range(0, len(wanted), IDS_PER_REQUEST):
            chunk = wanted[start : start + IDS_PER_REQUEST]
            for invoice in self._pages({"IDs": ",".join(chunk)}):
                mapped = self._map(invoice)
                found[mapped.provider_id] = mapped
        return list(found.values())

    def changed_since(self, since: datetime) -> list[Invoice]:
        """Sales invoices created or changed at or after ``since`` (``If-Modified-Since``)."""
        # Xero compares to the second: ask from the start of that second, filter exactly here.
        header = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        invoices = [
            self._map(invoice)
            for invoice in self._pages(
                {"where": 'Type=="ACCREC"'}, headers={"If-Modified-Since": header}
            )
        ]
        return sorted(
            (invoice for invoice in invoices if invoice.updated_at >= since),
            key=lambda invoice: invoice.updated_at,
        )

    def _pages(
        self, params: dict[str, str], headers: dict[str, str] | None = None
    ) -> Iterator[wire.WireInvoice]:
        page = 1
        while True:
            response = self._http.api(
                "GET",
                "/Invoices",
                params={**params, "page": str(page), "pageSize": str(PAGE_SIZE), "unitdp": "4"},
                headers=headers,
            )
            envelope = wire.read(response.content, wire.InvoicesEnvelope)
            yield from envelope.invoices
            # The pagination object (when Xero sends it) spares reading an empty last page.
            last = envelope.pagination.page_count if envelope.pagination else None
            if len(envelope.invoices) < PAGE_SIZE or (last is not None and page >= last):
                return
            page += 1

    def _map(self, invoice: wire.WireInvoice) -> Invoice:
        contact_id = invoice.contact.contact_id if invoice.contact else None
        return to_invoice(invoice, self._contacts.known(contact_id) if contact_id else None)

    # -- online URL and void -----------------------------------------------------------

    def online_url(self, invoice_id: str) -> str:
        """The member's view-and-pay page (``GET /Invoices/{id}/OnlineInvoice``)."""
        response = self._http.api(
            "GET",
            f"/Invoices/{quote(invoice_id, safe='')}/OnlineInvoice",
            expect=(200, 400),
            resource_id=invoice_id,
        )
        if response.status_code == 400:
            reason = "; ".join(m for _, m in exception_messages(response)) or "no online view"
            raise InvalidStateError(
                f"Xero has no online invoice for {invoice_id!r}: {reason}", resource_id=invoice_id
            )
        entries = wire.read(response.content, wire.OnlineInvoicesEnvelope).online_invoices
        if not entries or not entries[0].online_invoice_url:
            raise InvalidStateError(
                f"Xero gave no online invoice URL for {invoice_id!r}", resource_id=invoice_id
            )
        return entries[0].online_invoice_url

    def void(self, invoice_id: str) -> Invoice:
        """Void an OPEN invoice without payments; a VOID one is returned as it is."""
        current = self.get_one(invoice_id)
        if current.status is InvoiceStatus.VOID:
            return current
        if current.status in _PAST_OPEN or current.amount_paid > 0:
            raise InvalidStateError(
                f"only an OPEN (AUTHORISED) invoice without payments can be voided; this one is "
                f"{current.status.value} with {current.amount_paid} paid",
                resource_id=invoice_id,
            )
        payload = wire.WireInvoice(invoice_id=invoice_id, status="VOIDED")
        response = self._http.api(
            "POST",
            f"/Invoices/{quote(invoice_id, safe='')}",
            params={"summarizeErrors": "false", "unitdp": "4"},
            body={"Invoices": [wire.unstructure(payload)]},
            idempotency_key=xero_key("void", invoice_id, current.updated_at.isoformat()),
            resource_id=invoice_id,
        )
        invoices = wire.read(response.content, wire.InvoicesEnvelope).invoices
        if len(invoices) != 1:
            raise ProviderUnavailableError("Xero answered a void without the invoice")
        messages = [message for _, message in element_messages(invoices[0])]
        if messages or invoices[0].status_attribute_string == "ERROR":
            raise InvalidStateError(
                f"Xero refused to void {invoice_id!r}: {'; '.join(messages)}",
                resource_id=invoice_id,
            )
        return self._map(invoices[0])


def locate_lines(error: ValidationError, request: InvoiceRequest) -> ValidationError:
    """Blame the lines that named an unknown account code, when Xero quotes the code."""
    if isinstance(error, IdempotencyConflictError):
        return error
    located: list[FieldError] = []
    for field_error in error.errors:
        quoted = re.search(r"'+([^']+)'+", field_error.message)
        lines = [
            index
            for index, item in enumerate(request.line_items)
            if quoted and item.account_code and item.account_code == quoted.group(1)
        ]
        if field_error.field == "account_code" and lines:
            located += [
                attrs.evolve(field_error, field=f"line_items[{i}].account_code") for i in lines
            ]
        else:
            located.append(field_error)
    return ValidationError(located)


def _same_invoice(
    candidate: wire.WireInvoice, wanted: wire.WireInvoice, request: InvoiceRequest
) -> bool:
    """Whether ``candidate`` is the invoice ``wanted`` (the payload for ``request``).

    A field ``request`` left to the settings matches any value: the first attempt may have been
    made before the operator changed the setting.
    """
    if (candidate.status or "").upper() in ("DELETED", "VOIDED"):
        return False
    if (
        candidate.invoice_type != wanted.invoice_type
        or candidate.invoice_date != wanted.invoice_date
        or candidate.due_date != wanted.due_date
        or (candidate.reference or None) != (wanted.reference or None)
        or candidate.currency_code != wanted.currency_code
    ):
        return False
    if (
        request.amount_type is not None
        and (candidate.line_amount_types or "").lower() != (wanted.line_amount_types or "").lower()
    ):
        return False
    have = candidate.line_items or ()
    want = wanted.line_items or ()
    return len(have) == len(want) and all(
        _same_line(a, b, named=item.account_code or request.account_code)
        for a, b, item in zip(have, want, request.line_items, strict=True)
    )


def _same_line(have: wire.WireLineItem, want: wire.WireLineItem, *, named: str | None) -> bool:
    if (have.description, have.quantity, have.unit_amount) != (
        want.description,
        want.quantity,
        want.unit_amount,
    ):
        return False
    return named is None or (have.account_code or "").upper() == (want.account_code or "").upper()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
