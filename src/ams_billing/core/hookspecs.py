"""The provider interface: pluggy hook specifications.

A provider is a plugin object whose methods are marked with :data:`hookimpl` and named after
the specifications below. A :class:`~ams_billing.core.service.BillingService` holds exactly one
provider, so every *operation* hook (``firstresult=True``) reaches exactly one implementation;
policies registered beside it either answer first to veto an operation (``tryfirst=True``,
returning a result) or wrap it (``wrapper=True``) to observe it, and then work for every
provider alike. *Listener* hooks (:func:`invoice_changed`) are broadcast to every plugin that
implements them: that is how an AMS hears that an invoice was paid.

Rules that bind every provider:

- Arguments are the core's models; results are the core's models. No provider wire format
  crosses this boundary.
- Failures raise a subclass of :class:`~ams_billing.core.errors.BillingError`; nothing else
  escapes. Messages and attributes never contain secrets. A
  :class:`~ams_billing.core.errors.ValidationError` names each field at fault and says why
  (every :class:`~ams_billing.core.errors.FieldError` has a field and a message); a
  :class:`~ams_billing.core.errors.NotFoundError` carries the id asked for as ``resource_id``.
- Creates are idempotent on the caller's ``idempotency_key``: the same key returns the first
  result and never creates a second record, even if the first call's response was lost, and
  even once the accounting system has forgotten the key (its memory of keys lasts minutes),
  whether the retry comes from a restarted process or from the same one. The
  same key with a different request (any field differs) raises
  :class:`~ams_billing.core.errors.IdempotencyConflictError`, whose ``idempotency_key`` is the
  key sent. Keys are compared exactly (case and length count).
- An operation the provider does not offer raises
  :class:`~ams_billing.core.errors.UnsupportedOperationError` and is left out of
  :func:`get_capabilities`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import pluggy

from ams_billing.core.batch import BatchItem, BatchResult
from ams_billing.core.behaviour import ProviderBehaviour
from ams_billing.core.models import (
    Capability,
    Contact,
    ContactRecord,
    Invoice,
    InvoiceChange,
    InvoiceDefaults,
    InvoiceEmailResult,
    InvoiceRequest,
    WebhookDelivery,
)

__all__ = [
    "OPERATION_HOOKS",
    "OPTIONAL_OPERATION_HOOKS",
    "PROJECT_NAME",
    "create_contact",
    "create_contacts",
    "create_invoice",
    "create_invoices",
    "get_behaviour",
    "get_capabilities",
    "get_invoice_defaults",
    "get_invoice_url",
    "get_invoices",
    "get_invoices_changed_since",
    "hookimpl",
    "hookspec",
    "invoice_changed",
    "parse_webhook",
    "send_invoice",
    "void_invoice",
]

PROJECT_NAME = "ams_billing"
"""The pluggy project name shared by the specifications and every implementation."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marks a hook specification (used here only)."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a provider's, a policy's or a listener's hook implementation."""


@hookspec(firstresult=True)
def get_capabilities() -> frozenset[Capability]:  # type: ignore[empty-body]
    """Return the optional operations this provider instance offers.

    The answer may depend on configuration: a Xero provider on a Demo Company, or with invoice
    emails switched off, leaves out :attr:`Capability.SEND_INVOICE`. The four core operations
    (contacts, invoices, reads, webhooks parsing) are not capabilities: every provider has them.

    :returns: the capabilities offered.
    """


@hookspec(firstresult=True)
def get_invoice_defaults() -> InvoiceDefaults:  # type: ignore[empty-body]
    """Return what this provider instance puts in the fields a request leaves unset.

    An :class:`~ams_billing.core.models.InvoiceRequest` whose ``amount_type`` is ``None`` is
    billed with ``amount_type`` from here, and lines that name no account (on a request that
    names none either) post to ``account_code``; a request that names a value keeps it. These
    are usually the operator's settings, so the answer may depend on configuration; it must
    be the defaults :func:`create_invoice` applies at that moment. The returned
    :class:`~ams_billing.core.models.Invoice` reports the amount type used.

    :returns: the provider's defaults.
    """


@hookspec(firstresult=True)
def get_behaviour() -> ProviderBehaviour:  # type: ignore[empty-body]
    """Return what this provider declares about how it bills (optional hook).

    Quantity precision, tax model, what a zero-total invoice becomes, whether a re-read
    invoice shows the contact's live details or a snapshot, whether past due dates are
    refused, how webhooks behave: see :class:`~ams_billing.core.behaviour.ProviderBehaviour`.
    The facade enforces it before calling the provider and the contract suite checks the
    provider against it. A provider that does not implement this hook gets
    ``ProviderBehaviour()``, whose defaults are Xero's answers.

    :returns: the provider's declared behaviour.
    """


@hookspec(firstresult=True)
def create_contact(contact: Contact, idempotency_key: str) -> ContactRecord:  # type: ignore[empty-body]
    """Create the contact, or update the one already keyed on ``contact.account_reference``.

    :param contact: the billing contact; ``account_reference`` identifies it across calls.
    :param idempotency_key: a key the caller owns (e.g. ``contact:<account uuid>:<version>``).
        A repeat with the same key and the same contact makes no change: it returns the record
        of the contact created or updated the first time (the same provider id) with its
        current details, at least as of the last change made through this provider; a later
        update made under another key stays, and the first details are not written back.
    :returns: the contact as the provider holds it, with its provider id.
    :raises ValidationError: the provider refused a field (the field is named).
    :raises IdempotencyConflictError: the key was used before with different details (another
        account reference, name or email, or an email set where it was cleared): a changed
        contact needs a new key (hence the ``<version>`` above); nothing is changed.
    :raises AuthenticationError: the provider refused the credentials.
    :raises RateLimitedError: the provider's limit was hit; ``retry_after`` says when to retry.
    :raises ProviderUnavailableError: the provider could not be reached.

    Idempotent: calling twice with the same ``account_reference`` never yields two contacts.
    """


@hookspec(firstresult=True)
def create_invoice(request: InvoiceRequest, idempotency_key: str) -> Invoice:  # type: ignore[empty-body]
    """Raise an approved (OPEN) invoice for ``request.contact``.

    The contact is found by its ``account_reference`` and created if the provider has none.

    :param request: what to bill; validated already by the model. Fields left unset
        (``amount_type``, ``account_code``) take the provider's defaults
        (:func:`get_invoice_defaults`) as they are when the invoice is created.
    :param idempotency_key: a key the caller owns, typically the membership or order id. The
        same key returns the invoice first created for it, whatever happened to the first
        response; never a second invoice.
    :returns: the invoice as the provider reports it (status OPEN, totals computed).
    :raises ValidationError: the provider refused the request (field named: an unknown account
        code, a disabled currency …).
    :raises IdempotencyConflictError: the key was used for a different request.
    :raises AuthenticationError: the provider refused the credentials.
    :raises RateLimitedError: the provider's limit was hit; ``retry_after`` says when to retry.
    :raises ProviderUnavailableError: the provider could not be reached; retrying with the same
        key is safe.

    The key remembers the request as sent, an unset field as unset. So a retry after the
    operator changed a default returns the invoice first created, as it was created (the new
    default applies to new keys); and a retry after an unknown outcome looks for the first
    attempt's invoice whatever default it was created with, before creating one with today's.
    """


@hookspec(firstresult=True)
def create_contacts(items: Sequence[BatchItem[Contact]]) -> list[BatchResult[ContactRecord]]:  # type: ignore[empty-body]
    """Create or update many contacts in as few calls as the provider allows (optional hook).

    Each item means what one :func:`create_contact` call with its request and key means.
    Providers without a batch API leave this hook out: the service then calls
    :func:`create_contact` once per item.

    :param items: the contacts and their idempotency keys, already checked by the service
        (valid keys, no key twice in one batch).
    :returns: one :class:`~ams_billing.core.batch.BatchResult` per item, in input order, with
        ``index`` its position in ``items``: ``CREATED`` for a new contact, ``EXISTING`` for a
        replayed key or a contact found and updated, ``FAILED`` with the error
        :func:`create_contact` would have raised for it (fields as the request names them; the
        service prefixes ``items[<index>].``).
    :raises BillingError: only for a failure of the whole call before any item was decided;
        the service then reports that error for every item.

    Idempotent per item; one item's failure never fails the others.
    """


@hookspec(firstresult=True)
def create_invoices(items: Sequence[BatchItem[InvoiceRequest]]) -> list[BatchResult[Invoice]]:  # type: ignore[empty-body]
    """Raise many OPEN invoices in as few calls as the provider allows (optional hook).

    Each item means what one :func:`create_invoice` call with its request and key means:
    contacts are resolved (and created) by ``account_reference``, and a key never raises a
    second invoice, whatever happened to an earlier response. Providers without a batch API
    leave this hook out: the service then calls :func:`create_invoice` once per item.

    :param items: the requests and their idempotency keys, already checked by the service.
    :returns: one :class:`~ams_billing.core.batch.BatchResult` per item, in input order:
        ``CREATED``, ``EXISTING`` (a replayed key, or an invoice found after a lost response)
        or ``FAILED`` with the error :func:`create_invoice` would have raised for it.
    :raises BillingError: only for a failure of the whole call before any item was decided
        (the service reports it for every item); a failure after some items were created
        (a lost response) may be raised too: retrying the batch with the same keys creates
        nothing twice.

    Idempotent per item; one item's failure never fails the others.
    """


@hookspec(firstresult=True)
def send_invoice(invoice: Invoice, idempotency_key: str) -> InvoiceEmailResult:  # type: ignore[empty-body]
    """Email the invoice to its contact through the provider.

    :param invoice: the invoice as last read or created; ``invoice.contact.email`` is the
        recipient that policies check.
    :param idempotency_key: a key the caller owns; a repeat does not send a second email.
    :returns: whether the email was sent, or why it was skipped.
    :raises InvalidStateError: the invoice cannot be emailed in its status (e.g. DRAFT, VOID).
    :raises UnsupportedOperationError: this provider instance sends no email (see capabilities).
    :raises NotFoundError: no such invoice.
    """


@hookspec(firstresult=True)
def parse_webhook(body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:  # type: ignore[empty-body]
    """Verify a webhook delivery over its raw bytes, then parse it into neutral events.

    :param body: the request body exactly as received (never re-serialised JSON).
    :param headers: the request headers; look-ups must be case-insensitive.
    :returns: the verified delivery; events for other tenants are dropped; an empty delivery
        is an Intent-to-Receive check and must be answered 200 like any other.
    :raises WebhookVerificationError: absent or wrong signature: answer 401, process nothing.
    :raises ValidationError: the signature holds but the body is not a delivery (the field
        named is ``body``).

    A refusal never reveals the signature that would have been valid for the body received,
    nor the webhook key: not in the error (its message, arguments, notes, attributes or the
    errors it was raised from) nor in the logs, as whoever forged the delivery may read them.

    The signature header's value must match exactly: another case, a prefix, a suffix (also
    of whitespace) or an empty value is refused. HTTP servers strip the optional whitespace
    around a header value before the application sees it, so a genuine delivery arrives
    without any.

    Pure: no network call, so it can answer within the provider's acknowledgement deadline.
    """


@hookspec(firstresult=True)
def get_invoices(invoice_ids: Sequence[str]) -> list[Invoice]:  # type: ignore[empty-body]
    """Read invoices by provider id, in as few calls as the provider allows.

    :param invoice_ids: provider ids; duplicates are allowed and read once.
    :returns: the invoices found, in no promised order; unknown ids are left out.
    """


@hookspec(firstresult=True)
def get_invoices_changed_since(since: datetime) -> list[Invoice]:  # type: ignore[empty-body]
    """Read every invoice created or changed at or after ``since`` (timezone-aware).

    :returns: the invoices, each with its ``updated_at``; may include invoices changed exactly
        at ``since``, so callers can resume from the largest ``updated_at`` they saw.
    :raises UnsupportedOperationError: the provider cannot list changes.
    """


@hookspec(firstresult=True)
def get_invoice_url(invoice_id: str) -> str:  # type: ignore[empty-body]
    """Return the URL where the member views and pays the invoice online.

    :raises NotFoundError: no such invoice.
    :raises InvalidStateError: the invoice has no online view yet (e.g. DRAFT).
    :raises UnsupportedOperationError: the provider has no online invoices.
    """


@hookspec(firstresult=True)
def void_invoice(invoice_id: str) -> Invoice:  # type: ignore[empty-body]
    """Void an approved invoice that has no payments; voiding a voided invoice is a no-op.

    :returns: the invoice, now VOID.
    :raises InvalidStateError: the invoice has payments or is PAID.
    :raises NotFoundError: no such invoice.
    """


@hookspec
def invoice_changed(change: InvoiceChange) -> None:
    """Tell listeners that an invoice changed (paid, partly paid, voided …).

    Broadcast to every registered listener, once per real change: duplicated or reordered
    webhook deliveries and repeated syncs do not repeat it, and an older read never undoes a
    newer one (an invoice does not go back from PAID because of a stale event).

    Never lost, so at least once: listeners are told before the new state is stored, so a
    listener that raised, or a process killed between telling and storing, hears the change
    again from the next webhook, drain or sync. Make a listener idempotent by acting on the
    state it is given, not on the fact of being called: set the membership to what
    ``change.invoice.status`` and ``amount_paid`` say (a no-op when it already is), keyed on
    ``change.invoice.provider_id``; never add ``amount_paid`` to a running total.
    """


OPERATION_HOOKS: tuple[str, ...] = (
    "get_capabilities",
    "get_invoice_defaults",
    "create_contact",
    "create_invoice",
    "send_invoice",
    "parse_webhook",
    "get_invoices",
    "get_invoices_changed_since",
    "get_invoice_url",
    "void_invoice",
)
"""The operation hooks, in the order a provider is documented; each has one implementation."""

OPTIONAL_OPERATION_HOOKS: tuple[str, ...] = ("create_contacts", "create_invoices")
"""Operation hooks a provider may leave out: the service falls back to the single-item hooks."""
