"""``/v1/customers``: create, retrieve, update, delete, list and search (§2, §1.6).

Updating a customer never changes finalized invoices (their snapshot is frozen, §3.8). A
deleted customer still resolves to its ``deleted: true`` stub; deleting it again, updating it
or billing it is a 404 ``resource_missing``. The ``email`` list filter is case-sensitive.
"""

from __future__ import annotations

from typing import Any

from .context import Answer, Context, changed, not_found
from .errors import StripeError
from .form import Params, as_list, in_ranges
from .lists import LIST_PARAMS, page
from .search import search_customers
from .shapes import customer_json
from .state import Customer

__all__ = ["customer_or_404", "handle_customers"]

_WRITABLE = ("email", "name", "description", "phone", "metadata", "preferred_locales")
_PREFIX_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def customer_or_404(ctx: Context, customer_id: str, param: str = "id") -> Customer:
    """The live (not deleted) customer with this id."""
    customer = ctx.account.customers.get(customer_id)
    if customer is None or customer.deleted:
        raise not_found("customer", customer_id, param)
    return customer


def _apply(ctx: Context, customer: Customer, params: Params) -> None:
    for name in ("email", "name", "description", "phone"):
        if params.has(name):
            limit = 512 if name == "email" else 256 if name == "name" else 5000
            setattr(customer, name, params.string(name, max_length=limit))
    changes = params.metadata()
    if changes is not None:
        if "" in changes:
            customer.metadata.clear()
        for key, value in changes.items():
            if key and value is None:
                customer.metadata.pop(key, None)
            elif key and value is not None:
                customer.metadata[key] = value
    if params.has("preferred_locales"):
        raw = params.raw("preferred_locales")
        locales = [] if raw == "" else as_list(raw)
        if locales is None or not all(isinstance(v, str) for v in locales):
            raise StripeError(400, "Invalid array", param="preferred_locales", replayable=False)
        customer.preferred_locales = list(locales)


def _create(ctx: Context) -> Answer:
    params = ctx.params
    params.allow((*_WRITABLE, "invoice_prefix"))
    prefix = params.string("invoice_prefix", max_length=12)
    if prefix is not None and (len(prefix) < 3 or not set(prefix) <= _PREFIX_CHARS):
        raise StripeError(
            400,
            "Invalid invoice_prefix: 3 to 12 upper-case letters or digits",
            param="invoice_prefix",
            replayable=False,
        )
    customer = Customer(
        id=ctx.ids.new("customer"),
        created=ctx.now,
        invoice_prefix=prefix or ctx.ids.invoice_prefix(),
    )
    _apply(ctx, customer, params)
    ctx.account.customers[customer.id] = customer
    ctx.index(customer.id)
    body = customer_json(customer)
    ctx.emit("customer.created", body)
    return 200, body


def _update(ctx: Context, customer: Customer) -> Answer:
    ctx.params.allow(_WRITABLE)
    before = customer_json(customer)
    _apply(ctx, customer, ctx.params)
    after = customer_json(customer)
    previous = changed(before, after, list(after))
    if previous:
        ctx.index(customer.id)
        ctx.emit("customer.updated", after, previous)
    return 200, after


def _list(ctx: Context) -> Answer:
    params = ctx.params
    params.allow((*LIST_PARAMS, "email", "created"))
    email = params.string("email", max_length=512)
    created = params.ranges("created")
    chosen = [
        c
        for c in reversed(ctx.account.customers.values())
        if not c.deleted and (email is None or c.email == email) and in_ranges(c.created, created)
    ]
    return page(params, "/v1/customers", chosen, lambda c: c.id, customer_json, "customer")


def _search(ctx: Context) -> Answer:
    params = ctx.params
    params.allow(("query", "limit", "page"))
    query = params.string("query", required=True, max_length=2000) or ""
    limit = params.integer("limit", minimum=1) or 10
    if limit > 100:
        raise StripeError(400, "Invalid limit: must be between 1 and 100", param="limit")
    found, next_page = search_customers(
        ctx.account, query, ctx.clock.now().timestamp(), limit=limit, page=params.string("page")
    )
    body: dict[str, Any] = {
        "data": [customer_json(c) for c in found],
        "has_more": next_page is not None,
        "next_page": next_page,
        "object": "search_result",
        "url": "/v1/customers/search",
    }
    return 200, body


def handle_customers(ctx: Context, method: str, parts: list[str]) -> Answer:
    """Answer ``/v1/customers[/{id}|/search]``; ``parts`` follow ``v1``."""
    if len(parts) == 1:
        return _create(ctx) if method == "POST" else _list(ctx)
    if parts[1] == "search":
        return _search(ctx)
    customer_id = parts[1]
    customer = ctx.account.customers.get(customer_id)
    if customer is None:
        raise not_found("customer", customer_id)
    if method == "GET":
        ctx.params.allow(())
        return 200, customer_json(customer)
    if customer.deleted:
        raise not_found("customer", customer_id)
    if method == "DELETE":
        ctx.params.allow(())
        last_state = customer_json(customer)
        customer.deleted = True
        ctx.index(customer.id)
        ctx.emit("customer.deleted", last_state)
        return 200, customer_json(customer)
    return _update(ctx, customer)
