"""The emulated account's objects: customers, invoice items, invoices, endpoints and events.

Plain mutable records kept in insertion order (Stripe lists newest first, so lists walk them
backwards). Amounts are integers in the currency's minor unit (§3.4); times are Unix seconds.
The engine guards every change with one lock; nothing here is thread-safe on its own.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["Account", "Customer", "EventRecord", "Invoice", "InvoiceItem", "WebhookEndpoint"]


@attrs.define
class Customer:
    """A customer (§2); ``deleted`` ones still resolve to a stub."""

    id: str
    created: int
    invoice_prefix: str
    email: str | None = None
    name: str | None = None
    description: str | None = None
    phone: str | None = None
    metadata: dict[str, str] = attrs.field(factory=dict)
    preferred_locales: list[str] = attrs.field(factory=list)
    currency: str | None = None
    next_invoice_sequence: int = 1
    deleted: bool = False


@attrs.define
class InvoiceItem:
    """An invoice item: pending (``invoice`` is ``None``) or on a draft invoice (§3.2)."""

    id: str
    customer: str
    created: int
    amount: int
    currency: str
    quantity: int = 1
    description: str | None = None
    unit_amount_decimal: str | None = None
    quantity_decimal: str | None = None
    invoice: str | None = None
    line_id: str | None = None
    metadata: dict[str, str] = attrs.field(factory=dict)
    deleted: bool = False


@attrs.define
class Invoice:
    """An invoice and its lifecycle (§3.6): draft → open → paid | void | uncollectible."""

    id: str
    customer: str
    created: int
    currency: str
    collection_method: str = "charge_automatically"
    status: str = "draft"
    days_until_due: int | None = None
    due_date: int | None = None
    auto_advance: bool = False
    description: str | None = None
    footer: str | None = None
    metadata: dict[str, str] = attrs.field(factory=dict)
    items: list[str] = attrs.field(factory=list)
    number: str | None = None
    amount_paid: int = 0
    finalized_at: int | None = None
    paid_at: int | None = None
    voided_at: int | None = None
    marked_uncollectible_at: int | None = None
    effective_at: int | None = None
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None
    customer_snapshot: dict[str, Any] | None = None
    """Customer name, email, phone frozen at finalization (§3.8); live until then."""
    paid_out_of_band: bool = False
    deleted: bool = False


@attrs.define
class WebhookEndpoint:
    """A registered webhook endpoint with its signing secret (§8)."""

    id: str
    created: int
    url: str
    secret: str = attrs.field(repr=False)
    enabled_events: list[str] = attrs.field(factory=list)
    description: str | None = None
    api_version: str | None = None
    metadata: dict[str, str] = attrs.field(factory=dict)
    status: str = "enabled"
    deleted: bool = False

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint receives events of ``event_type``."""
        if self.status != "enabled":
            return False
        for pattern in self.enabled_events:
            if pattern in ("*", event_type):
                return True
            if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
                return True
        return False


@attrs.define
class EventRecord:
    """An event, rendered once at creation (§8.1), and which endpoints still await it."""

    id: str
    created: int
    type: str
    body: dict[str, Any]
    pending: list[str] = attrs.field(factory=list)
    """Ids of endpoints that have not acknowledged it yet."""
    failed: list[str] = attrs.field(factory=list)
    """Ids of endpoints whose last delivery failed."""


@attrs.define
class Account:
    """Everything one emulated account holds."""

    country: str = "US"
    display_name: str | None = None
    customers: dict[str, Customer] = attrs.field(factory=dict)
    items: dict[str, InvoiceItem] = attrs.field(factory=dict)
    invoices: dict[str, Invoice] = attrs.field(factory=dict)
    endpoints: dict[str, WebhookEndpoint] = attrs.field(factory=dict)
    events: dict[str, EventRecord] = attrs.field(factory=dict)
    search_index: list[tuple[float, str, dict[str, Any] | None]] = attrs.field(factory=list)
    """``(visible_at, customer id, searchable fields or None once deleted)``, oldest first."""

    def invoice_items(self, invoice: Invoice) -> list[InvoiceItem]:
        """The items on ``invoice``, in the order they were added."""
        return [self.items[i] for i in invoice.items if not self.items[i].deleted]

    def subtotal(self, invoice: Invoice) -> int:
        """The sum of the invoice's line amounts (no tax: the emulator computes none)."""
        return sum(item.amount for item in self.invoice_items(invoice))
