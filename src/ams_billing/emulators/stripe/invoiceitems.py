"""``/v1/invoiceitems``: create, retrieve, list and delete invoice items (§3.2).

An item is priced by ``amount`` (the line total in minor units, negative for a credit) or by
``unit_amount_decimal`` times ``quantity`` (rounded half up to a whole minor unit, a choice the
emulator makes: Stripe's rule is [U]). Created with ``invoice`` it goes on that draft; without,
it stays pending until an invoice created with ``pending_invoice_items_behavior=include``
pulls it in. At most 250 items per invoice; only pending or draft items can be deleted.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .context import Answer, Context, not_found
from .customers import customer_or_404
from .errors import StripeError
from .form import in_ranges
from .lists import LIST_PARAMS, page
from .shapes import item_json
from .state import Invoice, InvoiceItem

__all__ = ["MAX_AMOUNT", "MAX_ITEMS", "handle_invoiceitems", "read_currency"]

MAX_ITEMS = 250
MAX_AMOUNT = 99_999_999
"""The largest absolute amount in minor units the emulator takes (Stripe's 8-digit cap)."""


def read_currency(ctx: Context, default: str) -> str:
    """The ``currency`` parameter, lower-cased (a three-letter code), or ``default``."""
    currency = ctx.params.string("currency", max_length=3)
    if currency is None:
        return default
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise StripeError(400, f"Invalid currency: {currency}", param="currency", replayable=False)
    return currency.lower()


def _amount(ctx: Context, quantity: int) -> tuple[int, str | None]:
    params = ctx.params
    amount = params.integer("amount")
    unit = params.decimal("unit_amount_decimal")
    if amount is not None and unit is not None:
        raise StripeError(
            400,
            "You may only specify one of these parameters: amount, unit_amount_decimal.",
            param="amount",
            replayable=False,
        )
    if amount is None and unit is None:
        raise StripeError(
            400,
            "Missing required param: amount.",
            code="parameter_missing",
            param="amount",
            replayable=False,
        )
    if unit is not None:
        if unit.as_tuple().exponent < -12:  # type: ignore[operator]
            raise StripeError(
                400,
                "Invalid decimal: unit_amount_decimal has at most 12 decimal places",
                param="unit_amount_decimal",
                replayable=False,
            )
        total = (unit * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        amount = int(total)
    assert amount is not None
    if abs(amount) > MAX_AMOUNT:
        raise StripeError(
            400,
            f"Amount must be no more than {MAX_AMOUNT}",
            code="amount_too_large",
            param="amount",
            replayable=False,
        )
    return amount, None if unit is None else format(unit, "f")


def draft_of(ctx: Context, invoice_id: str, customer_id: str) -> Invoice:
    """The draft invoice ``invoice_id`` of ``customer_id`` that an item may join."""
    invoice = ctx.account.invoices.get(invoice_id)
    if invoice is None or invoice.deleted:
        raise not_found("invoice", invoice_id, "invoice")
    if invoice.customer != customer_id:
        raise StripeError(
            400,
            f"The invoice {invoice_id} belongs to a different customer.",
            param="invoice",
        )
    if invoice.status != "draft":
        raise StripeError(
            400,
            f"You can only add invoice items to draft invoices; {invoice_id} is {invoice.status}.",
            code="invoice_not_editable",
            param="invoice",
        )
    if len(ctx.account.invoice_items(invoice)) >= MAX_ITEMS:
        raise StripeError(400, f"An invoice can have at most {MAX_ITEMS} items.", param="invoice")
    return invoice


def _create(ctx: Context) -> Answer:
    params = ctx.params
    params.allow(
        (
            "customer",
            "amount",
            "currency",
            "description",
            "invoice",
            "metadata",
            "quantity",
            "unit_amount_decimal",
        )
    )
    customer_id = params.string("customer", required=True) or ""
    quantity = params.integer("quantity", minimum=0)
    quantity = 1 if quantity is None else quantity
    amount, unit = _amount(ctx, quantity)
    description = params.string("description", max_length=5000)
    metadata = {k: v for k, v in (params.metadata() or {}).items() if k and v is not None}
    customer = customer_or_404(ctx, customer_id, "customer")
    invoice_id = params.string("invoice")
    invoice = draft_of(ctx, invoice_id, customer.id) if invoice_id else None
    default = invoice.currency if invoice else customer.currency or ctx.config.default_currency
    currency = read_currency(ctx, default)
    if invoice is not None and currency != invoice.currency:
        raise StripeError(
            400,
            f"The currency {currency} does not match the invoice's currency {invoice.currency}.",
            param="currency",
        )
    item = InvoiceItem(
        id=ctx.ids.new("invoiceitem"),
        customer=customer.id,
        created=ctx.now,
        amount=amount,
        currency=currency,
        quantity=quantity,
        description=description,
        unit_amount_decimal=unit,
        metadata=metadata,
    )
    ctx.account.items[item.id] = item
    if invoice is not None:
        attach(ctx, item, invoice)
    customer.currency = customer.currency or currency
    body = item_json(item)
    ctx.emit("invoiceitem.created", body)
    return 200, body


def attach(ctx: Context, item: InvoiceItem, invoice: Invoice) -> None:
    """Put ``item`` on the draft ``invoice`` as a new line."""
    item.invoice = invoice.id
    item.line_id = ctx.ids.new("line_item")
    invoice.items.append(item.id)


def _list(ctx: Context) -> Answer:
    params = ctx.params
    params.allow((*LIST_PARAMS, "customer", "invoice", "pending", "created"))
    customer = params.string("customer")
    invoice = params.string("invoice")
    pending = params.boolean("pending")
    created = params.ranges("created")
    chosen = [
        item
        for item in reversed(ctx.account.items.values())
        if not item.deleted
        and (customer is None or item.customer == customer)
        and (invoice is None or item.invoice == invoice)
        and (pending is None or (item.invoice is None) == pending)
        and in_ranges(item.created, created)
    ]
    return page(params, "/v1/invoiceitems", chosen, lambda i: i.id, item_json, "invoiceitem")


def handle_invoiceitems(ctx: Context, method: str, parts: list[str]) -> Answer:
    """Answer ``/v1/invoiceitems[/{id}]``."""
    if len(parts) == 1:
        return _create(ctx) if method == "POST" else _list(ctx)
    item = ctx.account.items.get(parts[1])
    if item is None or item.deleted:
        raise not_found("invoiceitem", parts[1])
    ctx.params.allow(())
    if method == "GET":
        return 200, item_json(item)
    if method == "DELETE":
        if item.invoice is not None:
            invoice = ctx.account.invoices[item.invoice]
            if invoice.status != "draft":
                raise StripeError(
                    400,
                    f"You can only delete invoice items on draft invoices; {invoice.id} is "
                    f"{invoice.status}.",
                    code="invoice_not_editable",
                )
        last_state = item_json(item)
        item.deleted = True
        ctx.emit("invoiceitem.deleted", last_state)
        return 200, item_json(item)
    raise StripeError(400, "Invoice items cannot be updated by the emulator.", param="id")
