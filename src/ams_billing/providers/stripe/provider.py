"""``StripeProvider``: the Stripe Invoicing provider's hook implementations.

Select it with ``AMS_BILLING_SERVICE_CLASS=stripe`` and the ``STRIPE_*`` variables
(:mod:`~ams_billing.providers.stripe.settings`). One instance holds one HTTP client, the
account's pacing and a cache of customer ids; it is thread-safe and meant to live as long as
the process. Calls go through httpx directly, not the ``stripe`` SDK: amounts stay exact
Decimals converted to Stripe's integers here, and this provider owns its keys, retries,
pacing and the faults its tests inject (the SDK is used only to prove the emulator).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import httpx

from ams_billing.core.batch import BatchItem, BatchOutcome, BatchResult
from ams_billing.core.behaviour import ContactView, ProviderBehaviour, TaxModel, WebhookBehaviour
from ams_billing.core.env import Environment
from ams_billing.core.errors import BillingError, UnsupportedOperationError
from ams_billing.core.hookspecs import hookimpl
from ams_billing.core.idempotency import IdempotentCalls
from ams_billing.core.ledger import IdempotencyStore
from ams_billing.core.models import (
    Capability,
    Contact,
    ContactRecord,
    Invoice,
    InvoiceDefaults,
    InvoiceEmailResult,
    InvoiceRequest,
    InvoiceStatus,
    WebhookDelivery,
)
from ams_billing.providers.stripe.customers import StripeCustomers
from ams_billing.providers.stripe.emails import StripeEmails
from ams_billing.providers.stripe.invoices import StripeInvoices
from ams_billing.providers.stripe.money import LARGEST_AMOUNT
from ams_billing.providers.stripe.settings import StripeSettings
from ams_billing.providers.stripe.transport import StripeHttp
from ams_billing.providers.stripe.webhooks import DEFAULT_TOLERANCE, verify_and_parse

__all__ = ["STRIPE_BEHAVIOUR", "StripeProvider"]


STRIPE_BEHAVIOUR = ProviderBehaviour(
    quantity_places=0,
    tax_model=TaxModel.NO_TAX,
    largest_amount=LARGEST_AMOUNT,
    zero_total_status=InvoiceStatus.PAID,
    issued_contact=ContactView.SNAPSHOT,
    refuses_past_due_dates=True,
    partial_payments=False,
    webhooks=WebhookBehaviour(
        intent_to_receive=False,
        signature_tolerance=DEFAULT_TOLERANCE,
        snapshot_events=True,
    ),
)
"""What the Stripe provider declares (``get_behaviour``); the contract suite checks it."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StripeProvider:
    """Bills through one Stripe account with its secret (or restricted) key.

    :param settings: the validated settings; when omitted, ``settings_fields`` build them, and
        with neither the environment is read (``StripeSettings.from_env``).
    :param transport: an ``httpx.BaseTransport`` to send through (the emulator's in tests).
    :param clock: monotonic seconds, for pacing and the resend rule (default
        ``time.monotonic``).
    :param sleep: how to wait (default ``time.sleep``); tests pass a virtual one.
    :param now: the wall clock, timezone-aware (default UTC now): today's date for due dates,
        the age of a webhook signature, how far back the Events API reaches.
    :param idempotency_store: the durable ledger of keys (default: in memory); it also
        remembers the customer of each account reference.
    """

    name = "stripe"

    def __init__(
        self,
        settings: StripeSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        now: Callable[[], datetime] | None = None,
        idempotency_store: IdempotencyStore | None = None,
        **settings_fields: Any,
    ) -> None:
        if settings is None:
            settings = (
                StripeSettings(**settings_fields) if settings_fields else StripeSettings.from_env()
            )
        elif settings_fields:
            raise TypeError("pass either settings or its fields, not both")
        self.settings = settings
        self._now = now or _utc_now
        self._http = StripeHttp(
            settings,
            transport=transport,
            clock=clock or time.monotonic,
            sleep=sleep or time.sleep,
        )
        once = IdempotentCalls(idempotency_store)
        self.ledger = once.store
        self._customers = StripeCustomers(self._http, once, now=self._now)
        self._invoices = StripeInvoices(
            self._http, self._customers, settings.invoice_defaults(), once, now=self._now
        )
        self._emails = StripeEmails(self._http, self._invoices, once)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | Environment | None = None, **options: Any
    ) -> StripeProvider:
        """Build from the ``STRIPE_*`` variables of ``environ`` (default ``os.environ``)."""
        source = Environment.of(environ)
        del environ  # error reporters record frame locals: keep only the masked copy
        return cls(StripeSettings.from_env(source), **options)

    def __repr__(self) -> str:
        return (
            f"StripeProvider(mode={self.settings.mode!r}, api_base={self.settings.api_base!r}, "
            f"api_version={self.settings.api_version!r})"
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()

    def __enter__(self) -> StripeProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def http(self) -> StripeHttp:
        """The HTTP layer (its client and pacing), for diagnostics and tests."""
        return self._http

    @property
    def signature_tolerance(self) -> timedelta:
        """How old a delivery's signature may be (Stripe's 300 s)."""
        return DEFAULT_TOLERANCE

    def mark_uncollectible(self, invoice_id: str) -> Invoice:
        """Write an OPEN invoice off as a bad debt (Stripe's ``mark_uncollectible``).

        Not an operation hook (no other provider has it): call it on the provider. Listeners
        hear of it as ``ChangeKind.WRITTEN_OFF`` once the change is read.
        """
        return self._invoices.mark_uncollectible(invoice_id)

    # -- operation hooks ------------------------------------------------------------------

    @hookimpl
    def get_capabilities(self) -> frozenset[Capability]:
        """Everything; webhooks only with ``STRIPE_WEBHOOK_SECRET``."""
        offered = set(Capability)
        if not self.settings.webhook_secrets:
            offered.discard(Capability.WEBHOOKS)
        return frozenset(offered)

    @hookimpl
    def get_behaviour(self) -> ProviderBehaviour:
        """Stripe's declared behaviour (:data:`STRIPE_BEHAVIOUR`).

        Whole quantities, no tax, a zero total paid at finalization, the contact frozen at
        finalization, past due dates refused, payments in full only (out of band), signed
        snapshot events (300 s).
        """
        return STRIPE_BEHAVIOUR

    @hookimpl
    def get_invoice_defaults(self) -> InvoiceDefaults:
        """No tax (Stripe computes none here), ``STRIPE_CURRENCY``, no account code."""
        return self.settings.invoice_defaults()

    @hookimpl
    def create_contact(self, contact: Contact, idempotency_key: str) -> ContactRecord:
        """Create the customer, or find and update the one of its account reference."""
        return self._customers.create_contact(contact, idempotency_key)

    @hookimpl
    def create_contacts(
        self, items: Sequence[BatchItem[Contact]]
    ) -> list[BatchResult[ContactRecord]]:
        """Each item as :meth:`create_contact`; ``CREATED`` only for a customer made by the call.

        A replayed key, a customer Stripe replayed (``Idempotent-Replayed``), one a lost
        attempt made and one found and updated are ``EXISTING``: the service alone, looping,
        could not tell them apart after a restart. Errors are per item (``FAILED``).
        """
        results: list[BatchResult[ContactRecord]] = []
        for index, item in enumerate(items):
            key, made = item.idempotency_key, list[bool]()
            try:
                record = self._customers.create_contact(item.request, key, made=made)
            except BillingError as error:
                results.append(BatchResult(index, key, BatchOutcome.FAILED, error=error))
                continue
            outcome = BatchOutcome.CREATED if any(made) else BatchOutcome.EXISTING
            results.append(BatchResult(index, key, outcome, result=record))
        return results

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        """Raise an OPEN invoice (draft, lines, finalize), once per idempotency key."""
        return self._invoices.create(request, idempotency_key)

    @hookimpl
    def send_invoice(self, invoice: Invoice, idempotency_key: str) -> InvoiceEmailResult:
        """Have Stripe email the invoice (``/send``), once per idempotency key."""
        return self._emails.send(invoice, idempotency_key)

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        """Verify ``Stripe-Signature`` over the raw body and parse; no network call."""
        return verify_and_parse(
            body,
            headers,
            self.settings.webhook_secrets,
            now=self._now(),
            livemode=self.settings.livemode,
            account_id=self.settings.account_id,
            tolerance=DEFAULT_TOLERANCE,
        )

    @hookimpl
    def get_invoices(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        """Read invoices by id (one request each); unknown ids are left out."""
        return self._invoices.get_many(invoice_ids)

    @hookimpl
    def get_invoices_changed_since(self, since: datetime) -> list[Invoice]:
        """Invoices changed at or after ``since``: the Events API (30 days), else a full list."""
        if since.tzinfo is None:
            raise UnsupportedOperationError("since must be timezone-aware")
        return self._invoices.changed_since(since)

    @hookimpl
    def get_invoice_url(self, invoice_id: str) -> str:
        """``hosted_invoice_url``, where the member views and pays."""
        return self._invoices.online_url(invoice_id)

    @hookimpl
    def void_invoice(self, invoice_id: str) -> Invoice:
        """Void an OPEN invoice without payments."""
        return self._invoices.void(invoice_id)
