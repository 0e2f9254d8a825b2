"""JSON renderings of the emulator's objects, with the keys and types of Stripe's fixtures.

Each function returns the object as Stripe's API would in version ``2026-10-28.endive``, with
the same keys as the object of the same name in ``stripe/openapi`` ``fixtures3.json`` (checked
by ``tests/emulator_stripe``). Fields the emulator does not model are present with Stripe's
neutral value (``null``, ``[]``, ``0``, ``false``).
"""

from __future__ import annotations

from typing import Any

from .state import Account, Customer, Invoice, InvoiceItem, WebhookEndpoint

__all__ = [
    "customer_json",
    "deleted_json",
    "endpoint_json",
    "invoice_json",
    "item_json",
    "line_json",
    "list_json",
    "snapshot_of",
]


def deleted_json(object_: str, id_: str) -> dict[str, Any]:
    """The stub a delete answers with (and a deleted customer still resolves to)."""
    return {"deleted": True, "id": id_, "object": object_}


def list_json(url: str, data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    """A list page (§1.5)."""
    return {"data": data, "has_more": has_more, "object": "list", "url": url}


def customer_json(customer: Customer) -> dict[str, Any]:
    """A customer (fixture ``customer``), or its stub once deleted."""
    if customer.deleted:
        return deleted_json("customer", customer.id)
    return {
        "address": None,
        "balance": 0,
        "created": customer.created,
        "currency": customer.currency,
        "default_source": None,
        "delinquent": False,
        "description": customer.description,
        "discount": None,
        "email": customer.email,
        "id": customer.id,
        "invoice_prefix": customer.invoice_prefix,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": dict(customer.metadata),
        "name": customer.name,
        "next_invoice_sequence": customer.next_invoice_sequence,
        "object": "customer",
        "phone": customer.phone,
        "preferred_locales": list(customer.preferred_locales),
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def _pricing(item: InvoiceItem) -> dict[str, Any]:
    return {"type": "price_details", "unit_amount_decimal": item.unit_amount_decimal}


def item_json(item: InvoiceItem) -> dict[str, Any]:
    """An invoice item (fixture ``invoiceitem``)."""
    if item.deleted:
        return deleted_json("invoiceitem", item.id)
    return {
        "amount": item.amount,
        "currency": item.currency,
        "customer": item.customer,
        "date": item.created,
        "description": item.description,
        "discountable": True,
        "discounts": [],
        "id": item.id,
        "invoice": item.invoice,
        "livemode": False,
        "metadata": dict(item.metadata),
        "object": "invoiceitem",
        "period": {"end": item.created, "start": item.created},
        "proration": False,
        "quantity": item.quantity,
        "tax_rates": [],
        "test_clock": None,
        "parent": None,
        "pricing": _pricing(item),
        "net_amount": item.amount,
        "customer_account": None,
        "quantity_decimal": item.quantity_decimal or str(item.quantity),
    }


def line_json(item: InvoiceItem, invoice_id: str) -> dict[str, Any]:
    """The line an attached invoice item makes on its invoice (fixture ``line_item``)."""
    return {
        "amount": item.amount,
        "currency": item.currency,
        "description": item.description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "id": item.line_id or item.id,
        "invoice": invoice_id,
        "livemode": False,
        "metadata": dict(item.metadata),
        "object": "line_item",
        "period": {"end": item.created, "start": item.created},
        "quantity": item.quantity,
        "subscription": None,
        "pretax_credit_amounts": [],
        "taxes": [],
        "parent": {
            "invoice_item_details": {
                "invoice_item": item.id,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": None,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        },
        "pricing": _pricing(item),
        "subtotal": item.amount,
        "quantity_decimal": item.quantity_decimal or str(item.quantity),
    }


def snapshot_of(customer: Customer | None) -> dict[str, Any]:
    """The customer fields an invoice mirrors until it is finalized (§3.8)."""
    if customer is None or customer.deleted:
        return {"name": None, "email": None, "phone": None}
    return {"name": customer.name, "email": customer.email, "phone": customer.phone}


def endpoint_json(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    """A webhook endpoint (fixture ``webhook_endpoint``); the secret only when just created."""
    if endpoint.deleted:
        return deleted_json("webhook_endpoint", endpoint.id)
    body: dict[str, Any] = {
        "api_version": endpoint.api_version,
        "application": None,
        "created": endpoint.created,
        "description": endpoint.description,
        "enabled_events": list(endpoint.enabled_events),
        "id": endpoint.id,
        "livemode": False,
        "metadata": dict(endpoint.metadata),
        "object": "webhook_endpoint",
        "status": endpoint.status,
        "url": endpoint.url,
    }
    if with_secret:
        body["secret"] = endpoint.secret
    return body


def invoice_json(account: Account, invoice: Invoice, *, lines_limit: int = 10) -> dict[str, Any]:
    """An invoice (fixture ``invoice``), its first ``lines_limit`` lines embedded."""
    if invoice.deleted:
        return deleted_json("invoice", invoice.id)
    items = account.invoice_items(invoice)
    subtotal = sum(item.amount for item in items)
    amount_due = max(subtotal, 0)
    frozen = invoice.customer_snapshot
    who = frozen if frozen is not None else snapshot_of(account.customers.get(invoice.customer))
    finalized = invoice.status != "draft"
    lines = [line_json(item, invoice.id) for item in items[:lines_limit]]
    return {
        "account_country": account.country,
        "account_name": account.display_name,
        "account_tax_ids": None,
        "amount_due": amount_due,
        "amount_paid": invoice.amount_paid,
        "amount_remaining": max(amount_due - invoice.amount_paid, 0)
        if invoice.status != "void"
        else 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": invoice.auto_advance,
        "automatic_tax": {
            "enabled": False,
            "liability": None,
            "status": None,
            "disabled_reason": None,
            "provider": None,
        },
        "billing_reason": "manual",
        "collection_method": invoice.collection_method,
        "created": invoice.created,
        "currency": invoice.currency,
        "custom_fields": None,
        "customer": invoice.customer,
        "customer_address": None,
        "customer_email": who["email"],
        "customer_name": who["name"],
        "customer_phone": who["phone"],
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": invoice.description,
        "discounts": [],
        "due_date": invoice.due_date,
        "effective_at": invoice.effective_at,
        "ending_balance": 0 if finalized else None,
        "footer": invoice.footer,
        "from_invoice": None,
        "hosted_invoice_url": invoice.hosted_invoice_url,
        "id": invoice.id,
        "invoice_pdf": invoice.invoice_pdf,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": list_json(
            f"/v1/invoices/{invoice.id}/lines", lines, has_more=len(items) > lines_limit
        ),
        "livemode": False,
        "metadata": dict(invoice.metadata),
        "next_payment_attempt": None,
        "number": invoice.number,
        "object": "invoice",
        "on_behalf_of": None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": invoice.created,
        "period_start": invoice.created,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": {
            "amount_tax_display": None,
            "pdf": None,
            "template": None,
            "template_version": None,
        },
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": invoice.status,
        "status_transitions": {
            "finalized_at": invoice.finalized_at,
            "marked_uncollectible_at": invoice.marked_uncollectible_at,
            "paid_at": invoice.paid_at,
            "voided_at": invoice.voided_at,
        },
        "subscription": None,
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "test_clock": None,
        "total": subtotal,
        "total_discount_amounts": [],
        "total_excluding_tax": subtotal,
        "webhooks_delivered_at": invoice.created if finalized else None,
        "automatically_finalizes_at": None,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "amount_overpaid": 0,
        "parent": None,
        "customer_account": None,
    }
