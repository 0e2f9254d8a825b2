"""ams-billing: bill association members through any accounting system, today Xero.

The public API, in ten lines::

    from ams_billing import load_service, Contact, InvoiceRequest, LineItem

    billing = load_service()                 # AMS_BILLING_SERVICE_CLASS: xero, fake or a.b.Class
    contact = billing.create_contact(Contact("acct-42", "Ada Lovelace", "ada@example.org"),
                                     idempotency_key="contact:acct-42")
    invoice = billing.create_invoice(InvoiceRequest(contact=..., line_items=[LineItem(
        "Annual membership", Decimal(1), Decimal("120.00"))], currency="NZD", ...),
        idempotency_key="invoice:membership-7")    # a retry with this key never bills twice
    billing.send_invoice(invoice)                  # policies may skip it; the result says why
    response = billing.handle_webhook(body, headers)   # 200 or 401, then process_webhook()

Everything raises subclasses of :class:`BillingError`.

The promise behind ``idempotency_key`` holds across processes and restarts: ``load_service()``
keeps the idempotency ledger, the invoice states listeners are told about and the webhook inbox
(``billing.inbox``) in a database by default, ``AMS_BILLING_DATABASE_URL`` (PostgreSQL for
several machines) or else an SQLite file, ``$XDG_DATA_HOME/ams-billing/billing.sqlite3``. State
lives in memory only when chosen: ``AMS_BILLING_DATABASE_URL=memory:`` or
``load_service(stores="memory:")``. See :mod:`ams_billing.stores`.
"""

from ams_billing._version import __version__
from ams_billing.assembly.loading import (
    ENTRY_POINT_GROUP,
    ServiceSettings,
    available_providers,
    load_durable_service,
    load_provider,
    load_service,
    resolve_provider_class,
)
from ams_billing.core.batch import BatchItem, BatchOutcome, BatchResult
from ams_billing.core.behaviour import ContactView, ProviderBehaviour, TaxModel, WebhookBehaviour
from ams_billing.core.errors import (
    AuthenticationError,
    BillingError,
    ConfigurationError,
    FieldError,
    IdempotencyConflictError,
    InvalidStateError,
    NotFoundError,
    ProviderNotFoundError,
    ProviderUnavailableError,
    RateLimitedError,
    UnsupportedOperationError,
    ValidationError,
    WebhookVerificationError,
)
from ams_billing.core.hookspecs import hookimpl
from ams_billing.core.idempotency import IdempotentCalls, Outcome, OutcomeCodec, json_codec
from ams_billing.core.models import (
    AmountType,
    Capability,
    ChangeKind,
    Contact,
    ContactRecord,
    EmailSkipReason,
    EventCategory,
    EventType,
    Invoice,
    InvoiceChange,
    InvoiceDefaults,
    InvoiceEmailResult,
    InvoiceLine,
    InvoiceRequest,
    InvoiceStatus,
    LineItem,
    WebhookDelivery,
    WebhookEvent,
)
from ams_billing.core.policies import AuditLogPolicy, EmailSwitchPolicy, EmailWhitelistPolicy
from ams_billing.core.service import BillingService, WebhookResponse
from ams_billing.core.tracking import InMemoryInvoiceStateStore, InvoiceSnapshot, InvoiceStateStore
from ams_billing.core.webhooks import BackgroundProcessor, DrainResult, drain_inbox

__all__ = [
    "ENTRY_POINT_GROUP",
    "AmountType",
    "AuditLogPolicy",
    "AuthenticationError",
    "BackgroundProcessor",
    "BatchItem",
    "BatchOutcome",
    "BatchResult",
    "BillingError",
    "BillingService",
    "Capability",
    "ChangeKind",
    "ConfigurationError",
    "Contact",
    "ContactRecord",
    "ContactView",
    "DrainResult",
    "EmailSkipReason",
    "EmailSwitchPolicy",
    "EmailWhitelistPolicy",
    "EventCategory",
    "EventType",
    "FieldError",
    "IdempotencyConflictError",
    "IdempotentCalls",
    "InMemoryInvoiceStateStore",
    "InvalidStateError",
    "Invoice",
    "InvoiceChange",
    "InvoiceDefaults",
    "InvoiceEmailResult",
    "InvoiceLine",
    "InvoiceRequest",
    "InvoiceSnapshot",
    "InvoiceStateStore",
    "InvoiceStatus",
    "LineItem",
    "NotFoundError",
    "Outcome",
    "OutcomeCodec",
    "ProviderBehaviour",
    "ProviderNotFoundError",
    "ProviderUnavailableError",
    "RateLimitedError",
    "ServiceSettings",
    "TaxModel",
    "UnsupportedOperationError",
    "ValidationError",
    "WebhookBehaviour",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookResponse",
    "WebhookVerificationError",
    "__version__",
    "available_providers",
    "drain_inbox",
    "hookimpl",
    "json_codec",
    "load_durable_service",
    "load_provider",
    "load_service",
    "resolve_provider_class",
]
