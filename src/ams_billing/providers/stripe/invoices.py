"""Invoices: built from lines, finalized, sent; read by id and by change; voided, written off.

**Create** (one caller key, several Stripe requests, each with its own ``Idempotency-Key``):

1. ``POST /v1/invoices``: a draft, ``collection_method=send_invoice`` with the ``due_date``,
   ``pending_invoice_items_behavior=exclude`` (no stray pending item lands on it),
   ``auto_advance=false`` (nothing happens behind our back), and in ``metadata`` the account
   reference, a digest of the caller's key (``ams_key``), the issue date and
   reference;
2. ``POST /v1/invoiceitems`` per line, with ``invoice=<id>``, ``quantity`` (an integer: Stripe
   keeps no fraction) and ``unit_amount_decimal`` in minor units (fractions of a cent kept);
3. ``POST /v1/invoices/{id}/finalize``: the invoice is OPEN (PAID when its total is zero),
   with its number and ``hosted_invoice_url``.

**Never twice.** The ledger replays a key it recorded. Within Stripe's 24 hours a retry sends
the same requests with the same keys and Stripe answers each from its record. A key left
*pending* by an unknown outcome is looked up first: the customer's invoices are listed
(``GET /v1/invoices?customer=``, read-after-write consistent, unlike search) for the one whose
``metadata[ams_key]`` is the key's digest; a draft found is completed (its missing lines, by
``metadata[ams_line]``, then finalized) rather than made again.

**A 5xx Stripe kept under a step's key** (replayed to every retry for a day) moves that step
to a new key, once a consistent read proved the old key made nothing: the draft by its
``ams_key``, a line by its ``ams_line``, a finalize (or void, write-off) by the status
(:mod:`~ams_billing.providers.stripe.generations`).

**Changed since** reads ``GET /v1/events`` (``type=invoice.*``, ``created[gte]``), which keeps
30 days, then the invoices named; for an older ``since`` every invoice is listed.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from ams_billing.core.errors import (
    FieldError,
    InvalidStateError,
    NotFoundError,
    ValidationError,
)
from ams_billing.core.idempotency import IdempotentCalls, Outcome, OutcomeCodec
from ams_billing.core.models import (
    ContactRecord,
    Invoice,
    InvoiceDefaults,
    InvoiceRequest,
    InvoiceStatus,
)
from ams_billing.providers.stripe.customers import StripeCustomers
from ams_billing.providers.stripe.generations import KeyGenerations
from ams_billing.providers.stripe.keys import stripe_key
from ams_billing.providers.stripe.mapping import ACCOUNT_KEY, due_timestamp, to_invoice
from ams_billing.providers.stripe.money import NOT_BILLABLE, minor_unit_price, to_stripe_amount
from ams_billing.providers.stripe.transport import StripeHttp

__all__ = ["EVENTS_KEPT", "PAGE_SIZE", "StripeInvoices", "key_digest", "validate_request"]

PAGE_SIZE = 100
"""Objects per list page: Stripe's largest ``limit``."""

EVENTS_KEPT = timedelta(days=30)
"""How far back ``GET /v1/events`` reaches (8.3)."""

_OPERATION = "create_invoice"
_INVOICE_FIELDS = {"due_date": "due_date", "currency": "currency", "description": "reference"}


def key_digest(caller_key: str) -> str:
    """What ``metadata[ams_key]`` holds for a caller's key (the key itself stays here)."""
    return hashlib.sha256(caller_key.encode()).hexdigest()[:32]


def _no_account_codes(field: str) -> FieldError:
    return FieldError(
        field,
        "is set, but Stripe has no chart of accounts to post a line to",
        "leave it unset; map Stripe's revenue to your ledger in your accounting export",
    )


def validate_request(request: InvoiceRequest, today: date) -> None:
    """Refuse, before any call, what Stripe cannot bill exactly, naming each field."""
    errors: list[FieldError] = []
    if request.due_date < today:
        errors.append(
            FieldError(
                "due_date",
                f"{request.due_date} is in the past; Stripe refuses a due date before today",
                "give today or a later date",
            )
        )
    if request.currency in NOT_BILLABLE:
        errors.append(
            FieldError(
                "currency",
                f"{request.currency} is not a currency Stripe bills in (a fund, metal or "
                "testing code)",
                "bill in the currency of the member, such as USD, EUR or GBP",
            )
        )
    if request.account_code is not None:
        errors.append(_no_account_codes("account_code"))
    for index, line in enumerate(request.line_items):
        if line.account_code is not None:
            errors.append(_no_account_codes(f"line_items[{index}].account_code"))
        if line.quantity != line.quantity.to_integral_value():
            errors.append(
                FieldError(
                    f"line_items[{index}].quantity",
                    f"{line.quantity} is not a whole number; Stripe keeps whole quantities",
                    "bill a whole quantity, or put the fraction in the unit amount",
                )
            )
        if getattr(line, "tax_rate", None) is not None:
            errors.append(
                FieldError(
                    f"line_items[{index}].tax_rate",
                    "is set, but the Stripe provider computes no tax",
                    "leave tax_rate unset; put any tax in the amounts",
                )
            )
        try:
            to_stripe_amount(
                line.line_amount(request.currency),
                request.currency,
                field=f"line_items[{index}].unit_amount",
            )
        except ValidationError as error:
            errors.extend(error.errors)
    if errors:
        raise ValidationError(errors)


class StripeInvoices:
    """The invoice operations over one :class:`StripeHttp`."""

    def __init__(
        self,
        http: StripeHttp,
        customers: StripeCustomers,
        defaults: InvoiceDefaults,
        once: IdempotentCalls,
        *,
        now: Callable[[], datetime],
    ) -> None:
        self._http = http
        self._customers = customers
        self._defaults = defaults
        self._once = once
        self._now = now
        self._keys = KeyGenerations(http, once.store)
        self.codec = OutcomeCodec[Invoice](
            keep=lambda invoice: Outcome(invoice.provider_id, invoice.contact.provider_id),
            replay=lambda record: self.get_one(record.result or ""),
        )

    # -- create ----------------------------------------------------------------------------

    def create(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        """Raise an OPEN invoice for ``request`` once per ``idempotency_key``."""
        contact: list[ContactRecord] = []

        def resolved() -> ContactRecord:
            if not contact:
                contact.append(
                    self._customers.resolve(request.contact, f"invoice:{idempotency_key}")
                )
            return contact[0]

        def call() -> Invoice:
            validate_request(request, self._now().astimezone(UTC).date())
            return self._create(request, resolved(), idempotency_key)

        return self._once.run(
            idempotency_key,
            _OPERATION,
            request,
            call=call,
            codec=self.codec,
            find=lambda _: self._find_created(request, resolved(), idempotency_key),
        )

    def _create(self, request: InvoiceRequest, contact: ContactRecord, key: str) -> Invoice:
        metadata = {
            ACCOUNT_KEY: request.contact.account_reference,
            "ams_key": key_digest(key),
            "ams_issue_date": request.issue_date.isoformat(),
            "ams_reference": request.reference or "",
        }
        draft = self._keys.post(
            "/invoices",
            {
                "customer": contact.provider_id,
                "currency": request.currency.lower(),
                "collection_method": "send_invoice",
                "due_date": due_timestamp(request.due_date),
                "auto_advance": False,
                "pending_invoice_items_behavior": "exclude",
                "description": request.reference,
                "metadata": {k: v for k, v in metadata.items() if v},
            },
            stem=stripe_key("invoice", key, "create"),
            find=lambda: self._draft_of(contact, key),
            fields=_INVOICE_FIELDS,
        )
        return self._complete(draft, request, key)

    def _complete(self, invoice: Mapping[str, Any], request: InvoiceRequest, key: str) -> Invoice:
        """Add the lines a draft lacks and finalize it; an issued invoice is returned as it is."""
        invoice_id = str(invoice["id"])
        if invoice.get("status") != "draft":
            return self._mapped(invoice)
        present = {
            str((line.get("metadata") or {}).get("ams_line")) for line in self._lines(invoice)
        }
        resolved = self._defaults.apply(request)
        for index, line in enumerate(request.line_items):
            if str(index) in present:
                continue
            self._keys.post(
                "/invoiceitems",
                {
                    "customer": invoice["customer"],
                    "invoice": invoice_id,
                    "currency": request.currency.lower(),
                    "description": line.description,
                    "quantity": int(line.quantity),
                    "unit_amount_decimal": minor_unit_price(line.unit_amount, request.currency),
                    "metadata": {
                        "ams_line": str(index),
                        "ams_unit_amount": str(line.unit_amount),
                        "ams_account_code": line.account_code or resolved.account_code or "",
                    },
                },
                stem=stripe_key("invoice", key, f"line:{index}"),
                find=functools.partial(self._line_of, invoice_id, index),
                fields={
                    "quantity": f"line_items[{index}].quantity",
                    "unit_amount_decimal": f"line_items[{index}].unit_amount",
                    "description": f"line_items[{index}].description",
                },
            )
        finalized = self._keys.post(
            f"/invoices/{quote(invoice_id, safe='')}/finalize",
            {"auto_advance": False},
            stem=stripe_key("invoice", key, "finalize"),
            find=lambda: self._unless_status(invoice_id, "draft"),
            resource_id=invoice_id,
        )
        return self._mapped(finalized)

    def _find_created(
        self, request: InvoiceRequest, contact: ContactRecord, key: str
    ) -> Invoice | None:
        draft = self._draft_of(contact, key)
        return None if draft is None else self._complete(draft, request, key)

    def _draft_of(self, contact: ContactRecord, key: str) -> Mapping[str, Any] | None:
        """The live invoice a create under ``key`` made, from the customer's list (consistent)."""
        wanted = key_digest(key)
        for invoice in self._list({"customer": contact.provider_id}):
            metadata = invoice.get("metadata") or {}
            if metadata.get("ams_key") == wanted and invoice.get("status") != "void":
                return invoice
        return None

    def _line_of(self, invoice_id: str, index: int) -> Mapping[str, Any] | None:
        """The invoice's line added for ``line_items[index]``, if one was."""
        path = f"/invoices/{quote(invoice_id, safe='')}/lines"
        for line in self._pages(path, {}):
            if str((line.get("metadata") or {}).get("ams_line")) == str(index):
                return line
        return None

    def _unless_status(self, invoice_id: str, *statuses: str) -> Mapping[str, Any] | None:
        """The invoice as Stripe holds it now, unless its status is one of ``statuses``."""
        data = self.read_raw(invoice_id)
        return None if data.get("status") in statuses else data

    def read_raw(self, invoice_id: str) -> Mapping[str, Any]:
        """``GET /v1/invoices/{id}`` as Stripe answers it."""
        data: Mapping[str, Any] = self._http.get(
            f"/invoices/{quote(invoice_id, safe='')}", resource_id=invoice_id
        )
        return data

    # -- reads -----------------------------------------------------------------------------

    def get_one(self, invoice_id: str) -> Invoice:
        """Read one invoice; ``NotFoundError`` when Stripe has none with this id."""
        data = self._http.get(f"/invoices/{quote(invoice_id, safe='')}", resource_id=invoice_id)
        if data.get("deleted"):
            raise NotFoundError(
                f"Stripe's invoice {invoice_id!r} was deleted", resource_id=invoice_id
            )
        return self._mapped(data)

    def get_many(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        """Read invoices by id, one request each (Stripe has no multi-get); unknown left out."""
        found: list[Invoice] = []
        for invoice_id in dict.fromkeys(invoice_ids):
            if not invoice_id.startswith("in_"):
                continue
            try:
                found.append(self.get_one(invoice_id))
            except NotFoundError:
                continue
        return found

    def changed_since(self, since: datetime) -> list[Invoice]:
        """Invoices created or changed at or after ``since``, oldest change first."""
        if self._now() - since >= EVENTS_KEPT - timedelta(hours=1):
            invoices = [self._mapped(data) for data in self._list({})]
        else:
            named: dict[str, None] = {}
            params = {"type": "invoice.*", "created": {"gte": int(since.timestamp())}}
            for event in self._pages("/events", params):
                obj = (event.get("data") or {}).get("object") or {}
                if obj.get("object") == "invoice" and isinstance(obj.get("id"), str):
                    named[obj["id"]] = None
            invoices = self.get_many(list(named))
        return sorted(
            (invoice for invoice in invoices if invoice.updated_at >= since),
            key=lambda invoice: invoice.updated_at,
        )

    def _list(self, params: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        return self._pages("/invoices", params)

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        return self.pages(path, params)

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Every object of a list endpoint, page by page (``limit`` 100, ``starting_after``)."""
        after: str | None = None
        for _ in range(100_000):  # bounded: 10 million objects
            page = self._http.get(
                path, {**params, "limit": PAGE_SIZE, **({"starting_after": after} if after else {})}
            )
            data = [item for item in page.get("data", []) if isinstance(item, Mapping)]
            yield from data
            if not page.get("has_more") or not data:
                return
            after = str(data[-1]["id"])

    def _lines(self, invoice: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        embedded = invoice.get("lines") or {}
        lines = [line for line in embedded.get("data", []) if isinstance(line, Mapping)]
        if embedded.get("has_more"):
            lines = list(self._pages(f"/invoices/{quote(str(invoice['id']), safe='')}/lines", {}))
        return lines

    def _mapped(self, data: Mapping[str, Any]) -> Invoice:
        return to_invoice(data, self._lines(data))

    # -- online URL, void, write-off --------------------------------------------------------

    def online_url(self, invoice_id: str) -> str:
        """``hosted_invoice_url``: where the member views and pays (set at finalization)."""
        invoice = self.get_one(invoice_id)
        if invoice.status is InvoiceStatus.DRAFT or not invoice.online_url:
            raise InvalidStateError(
                f"Stripe has no hosted page for {invoice_id!r} until it is finalized",
                resource_id=invoice_id,
            )
        return invoice.online_url

    def void(self, invoice_id: str) -> Invoice:
        """Void an OPEN (or UNCOLLECTIBLE) invoice without payments; a VOID one is returned."""
        current = self.get_one(invoice_id)
        if current.status is InvoiceStatus.VOID:
            return current
        if current.status not in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE) or (
            current.amount_paid > 0
        ):
            raise InvalidStateError(
                "only an open or uncollectible invoice without payments can be voided; this one "
                f"is {current.status.value} with {current.amount_paid} paid (a draft is deleted "
                "in Stripe, never voided)",
                resource_id=invoice_id,
            )
        voided = self._keys.post(
            f"/invoices/{quote(invoice_id, safe='')}/void",
            {},
            stem=stripe_key("void", invoice_id),
            find=lambda: self._unless_status(invoice_id, "open", "uncollectible"),
            resource_id=invoice_id,
        )
        return self._mapped(voided)

    def mark_uncollectible(self, invoice_id: str) -> Invoice:
        """Write an OPEN invoice off (UNCOLLECTIBLE); it can still be paid later."""
        current = self.get_one(invoice_id)
        if current.status is InvoiceStatus.UNCOLLECTIBLE:
            return current
        if current.status is not InvoiceStatus.OPEN:
            raise InvalidStateError(
                f"only an open invoice can be written off; this one is {current.status.value}",
                resource_id=invoice_id,
            )
        written_off = self._keys.post(
            f"/invoices/{quote(invoice_id, safe='')}/mark_uncollectible",
            {},
            stem=stripe_key("uncollectible", invoice_id),
            find=lambda: self._unless_status(invoice_id, "open"),
            resource_id=invoice_id,
        )
        return self._mapped(written_off)
