"""``/v1/invoices``: drafts, finalize, send, pay, void, mark uncollectible, delete (§3).

Transitions and the events they emit follow §3.6::

    draft --finalize--> open            invoice.finalized (and invoice.paid if amount_due is 0)
    draft --DELETE----> (gone)          invoice.deleted
    open  --send------> open            invoice.sent
    open | uncollectible --pay--> paid  invoice.paid (paid_out_of_band=true only)
    open | uncollectible --void-> void  invoice.voided
    open  --mark_uncollectible--> uncollectible   invoice.marked_uncollectible

Finalizing assigns ``number`` (the customer's prefix and sequence), ``hosted_invoice_url``,
``invoice_pdf``, ``due_date`` from ``days_until_due``, and freezes ``customer_name``/
``customer_email``/``customer_phone`` (§3.8). A zero ``amount_due`` is paid at finalization
(§3.9). ``due_date`` in the past is refused at creation (§3.3). Illegal transitions are 400
``invalid_request_error`` with a message naming the status (Stripe's exact wording is [U]).
The emulator charges nothing: ``pay`` records out-of-band payments only.
"""

from __future__ import annotations

from typing import Any

from .context import Answer, Context, changed, not_found
from .customers import customer_or_404
from .errors import StripeError
from .form import in_ranges
from .invoiceitems import attach, read_currency
from .lists import LIST_PARAMS, page
from .shapes import invoice_json, line_json, snapshot_of
from .state import Invoice

__all__ = ["STATUSES", "handle_invoices", "pay_out_of_band"]

STATUSES = ("draft", "open", "paid", "uncollectible", "void")
_METHODS = ("charge_automatically", "send_invoice")
_DAY = 86_400
_MAX_DAYS = 1825


def _render(ctx: Context, invoice: Invoice) -> dict[str, Any]:
    return invoice_json(ctx.account, invoice)


def _state_error(invoice: Invoice, action: str) -> StripeError:
    return StripeError(
        400,
        f"You can't {action} an invoice whose status is {invoice.status} ({invoice.id}).",
        code="invoice_not_editable" if invoice.status != "draft" else None,
        param=None,
    )


def _due_terms(ctx: Context, method: str, creating: bool) -> tuple[int | None, int | None]:
    params = ctx.params
    days = params.integer("days_until_due", minimum=0)
    due = params.integer("due_date", minimum=0)
    if days is not None and days > _MAX_DAYS:
        raise StripeError(
            400,
            f"Invalid days_until_due: at most {_MAX_DAYS}",
            param="days_until_due",
            replayable=False,
        )
    if days is not None and due is not None:
        raise StripeError(
            400,
            "You may only specify one of these parameters: days_until_due, due_date.",
            param="due_date",
            replayable=False,
        )
    if method == "charge_automatically" and (days is not None or due is not None):
        name = "days_until_due" if days is not None else "due_date"
        raise StripeError(
            400,
            f"{name} can only be set when collection_method is send_invoice.",
            param=name,
            replayable=False,
        )
    if creating and method == "send_invoice" and days is None and due is None:
        raise StripeError(
            400,
            "Missing required param: days_until_due.",
            code="parameter_missing",
            param="days_until_due",
            replayable=False,
        )
    if due is not None and due <= ctx.now:
        raise StripeError(
            400,
            "Invalid timestamp: must be an integer Unix timestamp in the future.",
            param="due_date",
        )
    return days, due


def _create(ctx: Context) -> Answer:
    params = ctx.params
    params.allow(
        (
            "customer",
            "collection_method",
            "days_until_due",
            "due_date",
            "auto_advance",
            "description",
            "footer",
            "metadata",
            "currency",
            "pending_invoice_items_behavior",
        )
    )
    customer_id = params.string("customer", required=True) or ""
    method = params.choice("collection_method", _METHODS) or "charge_automatically"
    behaviour = params.choice("pending_invoice_items_behavior", ("exclude", "include"))
    auto_advance = params.boolean("auto_advance") or False
    description = params.string("description", max_length=1500)
    footer = params.string("footer", max_length=5000)
    metadata = {k: v for k, v in (params.metadata() or {}).items() if k and v is not None}
    days, due = _due_terms(ctx, method, creating=True)
    customer = customer_or_404(ctx, customer_id, "customer")
    currency = read_currency(ctx, customer.currency or ctx.config.default_currency)
    invoice = Invoice(
        id=ctx.ids.new("invoice"),
        customer=customer.id,
        created=ctx.now,
        currency=currency,
        collection_method=method,
        days_until_due=days,
        due_date=due,
        auto_advance=auto_advance,
        description=description,
        footer=footer,
        metadata=metadata,
    )
    ctx.account.invoices[invoice.id] = invoice
    if behaviour == "include":
        for item in ctx.account.items.values():
            pending = item.invoice is None and not item.deleted
            if pending and item.customer == customer.id and item.currency == currency:
                attach(ctx, item, invoice)
    customer.currency = customer.currency or currency
    body = _render(ctx, invoice)
    ctx.emit("invoice.created", body)
    return 200, body


def _update(ctx: Context, invoice: Invoice) -> Answer:
    params = ctx.params
    draft_only = (
        "collection_method",
        "days_until_due",
        "due_date",
        "description",
        "footer",
    )
    params.allow((*draft_only, "metadata", "auto_advance"))
    if invoice.status != "draft":
        for name in draft_only:
            if params.has(name):
                raise _state_error(invoice, f"change {name} on")
        if params.has("auto_advance") and invoice.status != "open":
            raise _state_error(invoice, "change auto_advance on")
    before = _render(ctx, invoice)
    if invoice.status == "draft":
        method = params.choice("collection_method", _METHODS) or invoice.collection_method
        if any(params.has(n) for n in ("collection_method", "days_until_due", "due_date")):
            days, due = _due_terms(ctx, method, creating=False)
            invoice.collection_method = method
            if method == "charge_automatically":
                invoice.days_until_due = invoice.due_date = None
            elif days is not None or due is not None:
                invoice.days_until_due, invoice.due_date = days, due
        for name in ("description", "footer"):
            if params.has(name):
                setattr(invoice, name, params.string(name, max_length=5000))
    if params.has("auto_advance"):
        invoice.auto_advance = bool(params.boolean("auto_advance"))
    changes = params.metadata()
    if changes is not None:
        if "" in changes:
            invoice.metadata.clear()
        for key, value in changes.items():
            if key and value is None:
                invoice.metadata.pop(key, None)
            elif key and value is not None:
                invoice.metadata[key] = value
    after = _render(ctx, invoice)
    previous = changed(before, after, list(after))
    if previous:
        ctx.emit("invoice.updated", after, previous)
    return 200, after


def _finalize(ctx: Context, invoice: Invoice) -> Answer:
    ctx.params.allow(("auto_advance",))
    if invoice.status != "draft":
        raise StripeError(
            400,
            "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
            code="invoice_not_editable",
        )
    customer = ctx.account.customers[invoice.customer]
    if ctx.params.has("auto_advance"):
        invoice.auto_advance = bool(ctx.params.boolean("auto_advance"))
    now = ctx.now
    invoice.status = "open"
    invoice.finalized_at = invoice.effective_at = now
    invoice.number = f"{customer.invoice_prefix}-{customer.next_invoice_sequence:04d}"
    customer.next_invoice_sequence += 1
    invoice.customer_snapshot = snapshot_of(customer)
    invoice.hosted_invoice_url = f"{ctx.hosted_base}/_emulator/hosted/{invoice.id}"
    invoice.invoice_pdf = f"{invoice.hosted_invoice_url}?format=pdf"
    if invoice.days_until_due is not None and invoice.due_date is None:
        invoice.due_date = now + invoice.days_until_due * _DAY
    ctx.emit("invoice.finalized", _render(ctx, invoice))
    if ctx.account.subtotal(invoice) <= 0:
        _mark_paid(ctx, invoice, out_of_band=False)
    return 200, _render(ctx, invoice)


def _mark_paid(ctx: Context, invoice: Invoice, *, out_of_band: bool) -> None:
    invoice.status = "paid"
    invoice.paid_at = ctx.now
    invoice.amount_paid = max(ctx.account.subtotal(invoice), 0)
    invoice.auto_advance = False
    invoice.paid_out_of_band = out_of_band
    ctx.emit("invoice.paid", _render(ctx, invoice))


def pay_out_of_band(ctx: Context, invoice: Invoice) -> Answer:
    """Mark an open or uncollectible invoice paid outside Stripe (§4); emits ``invoice.paid``."""
    if invoice.status not in ("open", "uncollectible"):
        raise _state_error(invoice, "pay")
    _mark_paid(ctx, invoice, out_of_band=True)
    return 200, _render(ctx, invoice)


def _pay(ctx: Context, invoice: Invoice) -> Answer:
    params = ctx.params
    params.allow(("paid_out_of_band", "forgive", "off_session", "payment_method", "source"))
    if params.boolean("paid_out_of_band") is not True:
        raise StripeError(
            400,
            "The emulator holds no payment methods: pay with paid_out_of_band=true, or through "
            f"POST /_emulator/invoices/{invoice.id}/pay.",
            param="paid_out_of_band",
        )
    return pay_out_of_band(ctx, invoice)


def _send(ctx: Context, invoice: Invoice) -> Answer:
    ctx.params.allow(())
    if invoice.status not in ("open", "paid", "uncollectible"):
        raise _state_error(invoice, "send")
    body = _render(ctx, invoice)
    ctx.emit("invoice.sent", body)
    return 200, body


def _void(ctx: Context, invoice: Invoice) -> Answer:
    ctx.params.allow(())
    if invoice.status not in ("open", "uncollectible"):
        raise _state_error(invoice, "void")
    invoice.status = "void"
    invoice.voided_at = ctx.now
    invoice.auto_advance = False
    body = _render(ctx, invoice)
    ctx.emit("invoice.voided", body)
    return 200, body


def _mark_uncollectible(ctx: Context, invoice: Invoice) -> Answer:
    ctx.params.allow(())
    if invoice.status != "open":
        raise _state_error(invoice, "mark uncollectible")
    invoice.status = "uncollectible"
    invoice.marked_uncollectible_at = ctx.now
    invoice.auto_advance = False
    body = _render(ctx, invoice)
    ctx.emit("invoice.marked_uncollectible", body)
    return 200, body


def _delete(ctx: Context, invoice: Invoice) -> Answer:
    ctx.params.allow(())
    if invoice.status != "draft":
        raise StripeError(
            400,
            f"You can only delete draft invoices; {invoice.id} is {invoice.status}. "
            "Void it instead.",
            code="invoice_not_editable",
        )
    last_state = _render(ctx, invoice)
    for item in ctx.account.invoice_items(invoice):
        item.deleted = True
    invoice.deleted = True
    ctx.emit("invoice.deleted", last_state)
    return 200, _render(ctx, invoice)


def _list(ctx: Context) -> Answer:
    params = ctx.params
    params.allow((*LIST_PARAMS, "customer", "status", "collection_method", "created", "due_date"))
    customer = params.string("customer")
    status = params.choice("status", STATUSES)
    method = params.choice("collection_method", _METHODS)
    created = params.ranges("created")
    due = params.ranges("due_date")
    chosen = [
        inv
        for inv in reversed(ctx.account.invoices.values())
        if not inv.deleted
        and (customer is None or inv.customer == customer)
        and (status is None or inv.status == status)
        and (method is None or inv.collection_method == method)
        and in_ranges(inv.created, created)
        and (not due or (inv.due_date is not None and in_ranges(inv.due_date, due)))
    ]
    return page(
        params, "/v1/invoices", chosen, lambda i: i.id, lambda i: _render(ctx, i), "invoice"
    )


def _lines(ctx: Context, invoice: Invoice) -> Answer:
    ctx.params.allow(LIST_PARAMS)
    items = list(ctx.account.invoice_items(invoice))
    return page(
        ctx.params,
        f"/v1/invoices/{invoice.id}/lines",
        items,
        lambda i: i.line_id or i.id,
        lambda i: line_json(i, invoice.id),
        "line_item",
    )


_ACTIONS = {
    "finalize": _finalize,
    "send": _send,
    "pay": _pay,
    "void": _void,
    "mark_uncollectible": _mark_uncollectible,
}


def handle_invoices(ctx: Context, method: str, parts: list[str]) -> Answer:
    """Answer ``/v1/invoices[/{id}[/{action}]]``."""
    if len(parts) == 1:
        return _create(ctx) if method == "POST" else _list(ctx)
    invoice = ctx.account.invoices.get(parts[1])
    if invoice is None or invoice.deleted:
        raise not_found("invoice", parts[1])
    if len(parts) == 3:
        if parts[2] == "lines":
            return _lines(ctx, invoice)
        return _ACTIONS[parts[2]](ctx, invoice)
    if method == "GET":
        ctx.params.allow(())
        return 200, _render(ctx, invoice)
    if method == "DELETE":
        return _delete(ctx, invoice)
    return _update(ctx, invoice)
