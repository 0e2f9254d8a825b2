"""``BillingService``: the typed facade an AMS calls, over one provider and its policies."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import attrs
import pluggy

from ams_billing.core import hookspecs
from ams_billing.core.batch import BatchItem, BatchResult
from ams_billing.core.behaviour import ProviderBehaviour, check_declared
from ams_billing.core.bulk import BatchRunner, SeenIds, check_key
from ams_billing.core.errors import (
    ConfigurationError,
    NotFoundError,
    UnsupportedOperationError,
    ValidationError,
    WebhookVerificationError,
)
from ams_billing.core.inbox import WebhookInbox
from ams_billing.core.models import (
    Capability,
    Contact,
    ContactRecord,
    EventCategory,
    Invoice,
    InvoiceChange,
    InvoiceDefaults,
    InvoiceEmailResult,
    InvoiceRequest,
    WebhookDelivery,
)
from ams_billing.core.policies import EmailSwitchPolicy, EmailWhitelistPolicy
from ams_billing.core.state import Closeable
from ams_billing.core.tracking import InvoiceStateStore, InvoiceTracker

__all__ = ["BillingService", "WebhookResponse"]

logger = logging.getLogger("ams_billing")

_REQUIRED_HOOKS = frozenset(hookspecs.OPERATION_HOOKS)


@attrs.frozen
class WebhookResponse:
    """What a web view should answer to a webhook delivery, and the delivery if it verified.

    ``status`` is 200 for a verified delivery (one with no events too, such as Xero's
    Intent-to-Receive check) and 401 for one that did not verify (a forged, altered or, for a
    provider with a ``signature_tolerance``, too old signature); the body must be empty either
    way.
    """

    status: int
    delivery: WebhookDelivery | None = None
    reason: str | None = None


class BillingService:
    """Bill through one provider; every method is one provider operation.

    Build it with :func:`~ams_billing.assembly.loading.load_service` (from
    ``AMS_BILLING_SERVICE_CLASS``), which keeps its state in the durable stores by default, or
    directly around a provider instance. Policies (the email switch and whitelist, audit
    logging, your own) are plugins registered beside the provider; listeners implement
    :func:`~ams_billing.core.hookspecs.invoice_changed` and hear about paid and voided invoices.

    Built directly, the service keeps what it is given: ``state_store`` (the tracker's invoice
    states; in memory when omitted) and ``inbox`` (where a ``BackgroundProcessor`` keeps
    deliveries; ``None`` leaves the choice to the processor, which then keeps them in memory).
    ``owned`` lists what :meth:`close` closes: what was opened for this service alone.
    """

    def __init__(
        self,
        provider: object,
        *,
        email_invoices: bool = True,
        email_whitelist: str | None = None,
        policies: Iterable[object] = (),
        listeners: Iterable[object] = (),
        state_store: InvoiceStateStore | None = None,
        inbox: WebhookInbox | None = None,
        owned: Iterable[Closeable] = (),
    ) -> None:
        self._inbox = inbox
        self._owned = list(owned)
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._provider = provider
        self._register(provider, "provider")
        missing = sorted(
            name for name in _REQUIRED_HOOKS if not getattr(self._pm.hook, name).get_hookimpls()
        )
        if missing:
            raise ConfigurationError(
                f"{type(provider).__qualname__} is not a complete billing provider: it implements "
                f"no {', '.join(missing)}. Mark each operation with "
                "@ams_billing.hookimpl (a method overridden without the marker is not seen)"
            )
        if not email_invoices:
            self._register(EmailSwitchPolicy(enabled=False), "policy:email-switch")
        if email_whitelist:
            self._register(EmailWhitelistPolicy(email_whitelist), "policy:email-whitelist")
        for index, policy in enumerate(policies):
            self._register(policy, f"policy:{index}:{type(policy).__name__}")
        for listener in listeners:
            self.add_listener(listener)
        self._tracker = InvoiceTracker(state_store)
        self._seen = SeenIds()
        self._contact_batches = BatchRunner(
            self._pm, "create_contacts", "create_contact", "contact", Contact,
            known=self._seen.__contains__, remember=self._seen.add,
        )  # fmt: skip
        self._invoice_batches = BatchRunner(
            self._pm, "create_invoices", "create_invoice", "request", InvoiceRequest,
            known=self._known_invoice, remember=self._seen.add, check=self._check_declared,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"BillingService(provider={type(self._provider).__qualname__})"

    @property
    def provider(self) -> object:
        """The provider instance this service bills through."""
        return self._provider

    @property
    def state_store(self) -> InvoiceStateStore:
        """Where the tracker keeps the last state seen of each invoice."""
        return self._tracker.store

    @property
    def inbox(self) -> WebhookInbox | None:
        """The webhook inbox that goes with this service's state (``None``: none was given).

        ``BackgroundProcessor(service)`` keeps deliveries here, and ``drain_inbox`` reads it.
        """
        return self._inbox

    def close(self) -> None:
        """Close what the service owns (see the class docstring); later calls do nothing."""
        owned, self._owned = self._owned, []
        for resource in reversed(owned):
            resource.close()

    def __enter__(self) -> BillingService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The pluggy plugin manager, for registering further policies or tracing hooks."""
        return self._pm

    def add_listener(self, listener: object) -> None:
        """Register an object implementing ``invoice_changed``."""
        self._register(listener, None)

    def _register(self, plugin: object, name: str | None) -> None:
        # A misspelt hook name or a wrong signature must fail here, at start-up, not when the
        # first invoice is due.
        try:
            self._pm.register(plugin, name=name)
            self._pm.check_pending()
        except pluggy.PluginValidationError as error:
            if self._pm.is_registered(plugin):
                self._pm.unregister(plugin)
            raise ConfigurationError(
                f"{type(plugin).__qualname__} cannot be registered: {error}"
            ) from error

    def _call(self, name: str, **kwargs: Any) -> Any:
        result = getattr(self._pm.hook, name)(**kwargs)
        if result is None:
            raise UnsupportedOperationError(
                f"{type(self._provider).__qualname__} returned nothing for {name}", capability=name
            )
        return result

    @property
    def capabilities(self) -> frozenset[Capability]:
        """The optional operations the provider offers now."""
        return frozenset(self._call("get_capabilities"))

    @property
    def invoice_defaults(self) -> InvoiceDefaults:
        """What the provider puts in the fields an ``InvoiceRequest`` leaves unset, now.

        A request with no ``amount_type`` is billed with ``invoice_defaults.amount_type``
        (usually an operator's setting), as a line with no account posts to ``account_code``.
        """
        defaults: InvoiceDefaults = self._call("get_invoice_defaults")
        return defaults

    @property
    def behaviour(self) -> ProviderBehaviour:
        """What the provider declares about how it bills; ``ProviderBehaviour()`` if nothing.

        See :class:`~ams_billing.core.behaviour.ProviderBehaviour`: the defaults are Xero's
        answers (4 quantity places, tax per line rounded half away from zero, a zero total
        stays OPEN, live contact details, past due dates accepted, no Intent to Receive).
        """
        declared: ProviderBehaviour | None = self._pm.hook.get_behaviour()
        return ProviderBehaviour() if declared is None else declared

    def create_contact(self, contact: Contact, *, idempotency_key: str) -> ContactRecord:
        """Create or update the contact keyed on ``contact.account_reference``."""
        _check_key(idempotency_key)
        record: ContactRecord = self._call(
            "create_contact", contact=contact, idempotency_key=idempotency_key
        )
        self._seen.add(record.provider_id)
        return record

    def create_contacts(
        self, items: Iterable[BatchItem[Contact]]
    ) -> list[BatchResult[ContactRecord]]:
        """Create or update many contacts, in batches where the provider has them.

        Returns one result per item, in input order: ``CREATED``, ``EXISTING`` (a replayed key,
        a contact found and updated) or ``FAILED`` with a typed error whose fields name the
        item (``items[3].email``). Never raises for an item's failure; a key repeated within
        the batch is sent once (the same contact again is ``EXISTING``, another contact is an
        :class:`~ams_billing.core.errors.IdempotencyConflictError` for that item).
        """
        results: list[BatchResult[ContactRecord]] = self._contact_batches.run(items)
        return results

    def create_invoices(
        self, items: Iterable[BatchItem[InvoiceRequest]]
    ) -> list[BatchResult[Invoice]]:
        """Raise many invoices, in batches where the provider has them; each key bills once.

        Results come in input order, as for :meth:`create_contacts`; a retried batch creates
        nothing twice and reports ``EXISTING``. Listeners hear of the invoices as after
        :meth:`create_invoice`. An item the provider declared it cannot bill fails as it would
        there, before any call, its fields named ``items[i].…``; the others go on.
        """
        results: list[BatchResult[Invoice]] = self._invoice_batches.run(items)
        unique = {r.result.provider_id: r.result for r in results if r.result is not None}
        self._notify(unique.values())
        return results

    def _check_declared(self, request: InvoiceRequest) -> None:
        check_declared(request, self.behaviour, today=date.today())

    def _known_invoice(self, invoice_id: str) -> bool:
        return invoice_id in self._seen or self._tracker.store.get(invoice_id) is not None

    def create_invoice(self, request: InvoiceRequest, *, idempotency_key: str) -> Invoice:
        """Raise an approved invoice; the same ``idempotency_key`` never raises a second one.

        A request the provider declared it cannot bill exactly (a quantity with more decimal
        places than its ``quantity_places``, a line's ``tax_rate`` when it computes no tax, a
        past due date when it refuses those) raises
        :class:`~ams_billing.core.errors.ValidationError` naming the field, before any call.
        """
        _check_key(idempotency_key)
        self._check_declared(request)
        invoice: Invoice = self._call(
            "create_invoice", request=request, idempotency_key=idempotency_key
        )
        self._seen.add(invoice.provider_id)
        # A retried create can return an invoice that was paid meanwhile: what it reveals is
        # news like any other read, or the webhook that follows would find nothing new.
        self._notify([invoice])
        return invoice

    def send_invoice(
        self, invoice: Invoice | str, *, idempotency_key: str | None = None
    ) -> InvoiceEmailResult:
        """Email the invoice to its contact, unless a policy skips it (the result says why).

        Pass the :class:`Invoice` you hold to spare a read; an id is read first. The default
        ``idempotency_key`` is derived from the invoice id, so one invoice is emailed once.
        """
        if isinstance(invoice, str):
            invoice = self.get_invoice(invoice)
        key = idempotency_key or f"email:{invoice.provider_id}"
        _check_key(key)
        result: InvoiceEmailResult = self._call(
            "send_invoice", invoice=invoice, idempotency_key=key
        )
        return result

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        """Verify and parse a delivery; raises WebhookVerificationError when it does not verify."""
        delivery: WebhookDelivery = self._call("parse_webhook", body=body, headers=headers)
        return delivery

    def handle_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookResponse:
        """Verify a delivery and say how to answer it; process the delivery after answering.

        Never raises for a bad request: a web view answers ``response.status`` with an empty
        body, then passes ``response.delivery`` to :meth:`process_webhook` (after the response,
        or in a worker) when it is not ``None``.
        """
        try:
            delivery = self.parse_webhook(body, headers)
        except WebhookVerificationError as error:
            return WebhookResponse(status=401, reason=str(error))
        except ValidationError as error:
            # The signature held, so the sender is genuine; a 4xx would only make it retry.
            logger.warning("a verified webhook delivery could not be parsed: %s", error)
            return WebhookResponse(status=200, reason=str(error))
        return WebhookResponse(status=200, delivery=delivery)

    def process_webhook(self, delivery: WebhookDelivery) -> list[InvoiceChange]:
        """Learn the state of the invoices a delivery names and notify listeners of changes.

        See :meth:`process_webhooks`.
        """
        return self.process_webhooks([delivery])

    def process_webhooks(self, deliveries: Sequence[WebhookDelivery]) -> list[InvoiceChange]:
        """Learn the state of the invoices the deliveries name and notify listeners of changes.

        An invoice every event of which carries its state (a snapshot event) is not read: the
        latest state delivered is used. The others are read together, 50 to a request where
        the provider batches. A delivered state never moves an invoice backwards (see
        :mod:`ams_billing.core.status_order`).
        """
        delivered: dict[str, Invoice] = {}
        thin: dict[str, None] = {}
        for delivery in deliveries:
            for event in delivery.events:
                if event.category is not EventCategory.INVOICE:
                    continue
                if event.snapshot is None:
                    thin[event.resource_id] = None
                    continue
                kept = delivered.get(event.resource_id)
                # Of two states stamped alike, the one delivered later is the later one.
                if kept is None or event.snapshot.updated_at >= kept.updated_at:
                    delivered[event.resource_id] = event.snapshot
        read = self.get_invoices(list(thin)) if thin else []
        return self._tracker.observe(read, self._tell_listeners, delivered=delivered.values())

    def sync_invoices(self, invoice_ids: Sequence[str]) -> list[InvoiceChange]:
        """Re-read invoices by id and notify listeners of what changed since last seen."""
        if not invoice_ids:
            return []
        return self._notify(self.get_invoices(invoice_ids))

    def sync_changed_since(self, since: datetime) -> list[InvoiceChange]:
        """Re-read every invoice changed since ``since`` and notify listeners (the safety net)."""
        return self._notify(self.get_invoices_changed_since(since))

    def _notify(self, invoices: Iterable[Invoice]) -> list[InvoiceChange]:
        return self._tracker.observe(invoices, self._tell_listeners)

    def _tell_listeners(self, change: InvoiceChange) -> None:
        self._pm.hook.invoice_changed(change=change)

    def get_invoice(self, invoice_id: str) -> Invoice:
        """Read one invoice; raises NotFoundError when the provider has none with this id."""
        for invoice in self.get_invoices([invoice_id]):
            if invoice.provider_id == invoice_id:
                return invoice
        raise NotFoundError(f"no invoice {invoice_id!r}", resource_id=invoice_id)

    def get_invoices(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        """Read invoices by id; unknown ids are left out."""
        if not invoice_ids:
            return []
        invoices: list[Invoice] = self._call("get_invoices", invoice_ids=list(invoice_ids))
        return invoices

    def get_invoices_changed_since(self, since: datetime) -> list[Invoice]:
        """Read invoices created or changed at or after ``since`` (timezone-aware)."""
        if since.tzinfo is None:
            raise ValidationError.for_field(
                "since", "is a naive datetime", "pass a timezone-aware datetime, e.g. in UTC"
            )
        invoices: list[Invoice] = self._call("get_invoices_changed_since", since=since)
        return invoices

    def get_invoice_url(self, invoice_id: str) -> str:
        """The URL where the member views and pays the invoice."""
        url: str = self._call("get_invoice_url", invoice_id=invoice_id)
        return url

    def void_invoice(self, invoice_id: str) -> Invoice:
        """Void an approved invoice without payments; listeners hear of it."""
        invoice: Invoice = self._call("void_invoice", invoice_id=invoice_id)
        self._notify([invoice])
        return invoice


_check_key = check_key
