"""``XeroProvider``: the Xero provider's hook implementations.

Select it with ``AMS_BILLING_SERVICE_CLASS=ams.billing.providers.xero.XeroBillingService`` (or
``xero``) and the ``XERO_*`` variables of the setup guide. One instance holds one HTTP client
and the caches of ContactIDs; it is thread-safe and meant to live as long as the process. The
token and the rate-limit pacing belong to the connection, not the instance: instances built
for the same credentials share them, so even a service built per request mints one token per
half hour and keeps the whole process within Xero's limits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from ams_billing.core.batch import BatchItem, BatchOutcome, BatchResult
from ams_billing.core.behaviour import (
    ContactView,
    ProviderBehaviour,
    TaxModel,
    WebhookBehaviour,
)
from ams_billing.core.deprecation import moved
from ams_billing.core.env import Environment
from ams_billing.core.errors import ValidationError
from ams_billing.core.hookspecs import hookimpl
from ams_billing.core.idempotency import IdempotentCalls
from ams_billing.core.models import (
    Capability,
    Contact,
    ContactRecord,
    Invoice,
    InvoiceDefaults,
    InvoiceEmailResult,
    InvoiceRequest,
    InvoiceStatus,
    LineItem,
    WebhookDelivery,
)
from ams_billing.providers.xero.batches import XeroBatches
from ams_billing.providers.xero.contacts import XeroContacts
from ams_billing.providers.xero.emails import XeroEmails
from ams_billing.providers.xero.invoices import XeroInvoices
from ams_billing.providers.xero.ledger import IdempotencyStore
from ams_billing.providers.xero.mapping import refuse_line_tax_rates
from ams_billing.providers.xero.settings import XeroSettings, default_invoice_fields
from ams_billing.providers.xero.transport import XeroHttp
from ams_billing.providers.xero.webhooks import verify_and_parse

__all__ = ["XERO_BEHAVIOUR", "XeroProvider"]

XERO_BEHAVIOUR = ProviderBehaviour(
    quantity_places=4,
    tax_model=TaxModel.PER_LINE_HALF_UP,
    zero_total_status=InvoiceStatus.OPEN,
    issued_contact=ContactView.LIVE,
    refuses_past_due_dates=False,
    webhooks=WebhookBehaviour(
        intent_to_receive=True, signature_tolerance=None, snapshot_events=False
    ),
)
"""What Xero does: ``Quantity`` keeps 4 places, tax is per line on the account's rate, a
zero-total invoice stays AUTHORISED, a re-read invoice embeds the contact as it is now, a due
date in the past is accepted, and webhooks are thin, checked by Intent to Receive, with a
signature that carries no timestamp."""


class XeroProvider:
    """Bills through one Xero organisation over a Custom Connection.

    :param settings: the validated settings; when omitted, ``settings_fields`` build them, and
        with neither the environment is read (``XeroSettings.from_env``).
    :param transport: an ``httpx.BaseTransport`` to send through (the emulator's in tests).
    :param clock: monotonic seconds, for token expiry and pacing (default ``time.monotonic``).
    :param sleep: how to wait (default ``time.sleep``); tests pass a virtual one.
    :param idempotency_store: where idempotency keys are recorded (default: in memory); give a
        database-backed one to keep the no-duplicate guarantee across processes and restarts.
    """

    name = "xero"

    def __init__(
        self,
        settings: XeroSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        idempotency_store: IdempotencyStore | None = None,
        **settings_fields: Any,
    ) -> None:
        if settings is None:
            settings = (
                XeroSettings(**settings_fields) if settings_fields else XeroSettings.from_env()
            )
        elif settings_fields:
            raise TypeError("pass either settings or its fields, not both")
        self.settings = settings
        self._http = XeroHttp(
            settings,
            transport=transport,
            clock=clock or time.monotonic,
            sleep=sleep or time.sleep,
        )
        once = IdempotentCalls(idempotency_store)
        self.ledger = once.store
        self._contacts = XeroContacts(self._http, once)
        self._invoices = XeroInvoices(self._http, self._contacts, settings, once)
        self._emails = XeroEmails(self._http, settings, once)
        self._batches = XeroBatches(
            self._http, self._contacts, self._invoices, settings=settings, once=once
        )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | Environment | None = None, **options: Any
    ) -> XeroProvider:
        """Build from the ``XERO_*`` variables of ``environ`` (default ``os.environ``)."""
        source = Environment.of(environ)
        del environ  # error reporters record frame locals: keep only the masked copy
        return cls(XeroSettings.from_env(source), **options)

    def __repr__(self) -> str:
        tenant = self.settings.tenant_id or "(the connection's only tenant)"
        return f"XeroProvider(tenant_id={tenant!r}, api_url={self.settings.api_url!r})"

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()

    def __enter__(self) -> XeroProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def http(self) -> XeroHttp:
        """The HTTP layer (its token cache and pacer), for diagnostics and tests."""
        return self._http

    def invoice_request(
        self,
        contact: Contact,
        line_items: Sequence[LineItem],
        *,
        issue_date: date,
        due_date: date,
        reference: str | None = None,
    ) -> InvoiceRequest:
        """A request in ``XERO_CURRENCY_CODE`` with ``XERO_AMOUNT_TYPE`` on ``XERO_ACCOUNT_CODE``.

        The amount type and account code are named in the request, as they are now; a request
        that leaves them unset gets the same from ``create_invoice`` (see
        :meth:`get_invoice_defaults`).
        """
        return InvoiceRequest(
            contact=contact,
            line_items=line_items,
            currency=self.settings.currency_code,
            issue_date=issue_date,
            due_date=due_date,
            reference=reference,
            amount_type=self.settings.amount_type,
            account_code=self.settings.account_code,
        )

    # -- operation hooks ------------------------------------------------------------------

    @hookimpl
    def get_capabilities(self) -> frozenset[Capability]:
        """Everything, except email when switched off or on a Demo Company."""
        offered = set(Capability)
        if not self._emails.can_send():
            offered.discard(Capability.SEND_INVOICE)
        return frozenset(offered)

    @hookimpl
    def get_behaviour(self) -> ProviderBehaviour:
        """Xero's declared behaviour: :data:`XERO_BEHAVIOUR`."""
        return XERO_BEHAVIOUR

    @hookimpl
    def get_invoice_defaults(self) -> InvoiceDefaults:
        """``XERO_AMOUNT_TYPE``, ``XERO_CURRENCY_CODE`` and ``XERO_ACCOUNT_CODE``."""
        return default_invoice_fields(self.settings)

    @hookimpl
    def create_contact(self, contact: Contact, idempotency_key: str) -> ContactRecord:
        """Create the contact, or find and update the one keyed on its account reference."""
        return self._contacts.create_contact(contact, idempotency_key)

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        """Raise an OPEN (Xero: AUTHORISED) sales invoice, once per idempotency key.

        A line naming a ``tax_rate`` is refused (:func:`~ams_billing.providers.xero.mapping.
        refuse_line_tax_rates`): Xero taxes a line by its account's tax type.
        """
        refuse_line_tax_rates(request)
        return self._invoices.create(request, idempotency_key)

    @hookimpl
    def create_contacts(
        self, items: Sequence[BatchItem[Contact]]
    ) -> list[BatchResult[ContactRecord]]:
        """Create or update contacts 50 per ``POST /Contacts?summarizeErrors=false``."""
        return self._batches.create_contacts(items)

    @hookimpl
    def create_invoices(
        self, items: Sequence[BatchItem[InvoiceRequest]]
    ) -> list[BatchResult[Invoice]]:
        """Raise invoices 50 per ``PUT /Invoices?summarizeErrors=false``, once per key.

        An item with a line naming a ``tax_rate`` fails as :meth:`create_invoice` refuses it;
        the others go on.
        """
        results: list[BatchResult[Invoice] | None] = [None] * len(items)
        sent: list[int] = []
        for index, item in enumerate(items):
            try:
                refuse_line_tax_rates(item.request)
            except ValidationError as error:
                key = item.idempotency_key
                results[index] = BatchResult(index, key, BatchOutcome.FAILED, error=error)
            else:
                sent.append(index)
        answered = self._batches.create_invoices([items[i] for i in sent]) if sent else []
        for result in answered:
            results[sent[result.index]] = attrs.evolve(result, index=sent[result.index])
        return [result for result in results if result is not None]

    @hookimpl
    def send_invoice(self, invoice: Invoice, idempotency_key: str) -> InvoiceEmailResult:
        """Email the invoice through Xero (or say why not)."""
        return self._emails.send(invoice, idempotency_key)

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        """Verify ``x-xero-signature`` over the raw body and parse; no network call."""
        return verify_and_parse(body, headers, self.settings.webhook_key, self.settings.tenant_id)

    @hookimpl
    def get_invoices(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        """Read invoices by id, 50 per request; unknown ids are left out."""
        return self._invoices.get_many(invoice_ids)

    @hookimpl
    def get_invoices_changed_since(self, since: datetime) -> list[Invoice]:
        """Read sales invoices changed at or after ``since`` (paged ``If-Modified-Since``)."""
        return self._invoices.changed_since(since)

    @hookimpl
    def get_invoice_url(self, invoice_id: str) -> str:
        """The online invoice URL, where the member views and pays."""
        return self._invoices.online_url(invoice_id)

    @hookimpl
    def void_invoice(self, invoice_id: str) -> Invoice:
        """Void an OPEN invoice without payments."""
        return self._invoices.void(invoice_id)


# Old names, kept with a DeprecationWarning (issue 18). Type checkers see plain aliases, so
# code typed against the old names still checks; at run time each use warns.
if TYPE_CHECKING:
    XeroBillingService = XeroProvider
else:
    __getattr__ = moved(
        __name__,
        {
            "XeroBillingService": "ams_billing.providers.xero.provider:XeroProvider",
        },
    )
