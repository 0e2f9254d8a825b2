"""``FakeProvider``: a complete in-memory provider, the reference for every other.

It implements every operation hook with the behaviour the contract suite expects of a real
provider (Xero-style per-line tax rounding, OPEN → PAID through full or partial
payments, void rules, idempotency keys, signed webhooks). Thread-safe: one lock guards the
books. Its test driver (record a payment as the member would, take the signed webhook
deliveries, inject faults) is a class of its own in the testing layer,
:class:`ams_billing.testing.FakeDriver`, which production code never imports.

Like a real provider it is a client of an accounting system: the system's books
(:class:`~ams_billing.providers.fake.books.FakeBooks`) can outlive an instance, and remember
idempotency keys only for a while; the instance keeps its own ledger of the keys it used (an
:class:`~ams_billing.core.ledger.IdempotencyStore`), which answers a retry once the books have
forgotten the key. A durable ledger makes that hold across a restart.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import attrs

from ams_billing.core.batch import BatchItem, BatchOutcome, BatchResult
from ams_billing.core.behaviour import (
    ContactView,
    ProviderBehaviour,
    TaxModel,
    WebhookBehaviour,
)
from ams_billing.core.deprecation import moved
from ams_billing.core.env import Environment, EnvReader
from ams_billing.core.errors import (
    BillingError,
    ConfigurationError,
    FieldError,
    IdempotencyConflictError,
    InvalidStateError,
    NotFoundError,
    UnsupportedOperationError,
    ValidationError,
    WebhookVerificationError,
)
from ams_billing.core.hookspecs import hookimpl
from ams_billing.core.idempotency import IdempotentCalls, KeyEntry, Outcome, OutcomeCodec
from ams_billing.core.ledger import IdempotencyRecord, IdempotencyStore
from ams_billing.core.models import (
    AmountType,
    Capability,
    Contact,
    ContactRecord,
    EmailSkipReason,
    EventCategory,
    EventType,
    Invoice,
    InvoiceDefaults,
    InvoiceEmailResult,
    InvoiceRequest,
    InvoiceStatus,
    LineItem,
    WebhookDelivery,
    WebhookEvent,
)
from ams_billing.core.signing import header_value, signature_matches
from ams_billing.core.totals import compute_line, compute_totals
from ams_billing.providers.fake.books import FakeBooks, FakePayment
from ams_billing.providers.fake.faults import FaultPlan
from ams_billing.providers.fake.wire import decode_delivery

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "FakePayment", "FakeProvider", "signed_part"]

SIGNATURE_HEADER = "x-fake-signature"
"""The header carrying Base64(HMAC-SHA256(webhook key, body)) on fake deliveries.

With a ``signature_tolerance`` the signature covers ``signed_part(timestamp, body)`` instead.
"""

TIMESTAMP_HEADER = "x-fake-timestamp"
"""With a ``signature_tolerance``: when the delivery was signed, in whole Unix seconds."""


def signed_part(timestamp: str, body: bytes) -> bytes:
    """What a fake signature covers when it has a timestamp: ``timestamp.body``."""
    return timestamp.encode("ascii") + b"." + body


_DEFAULT_BEHAVIOUR = ProviderBehaviour(webhooks=WebhookBehaviour(intent_to_receive=True))
"""The fake's declaration when given none: the defaults, and Intent-to-Receive checks (its
driver signs them)."""

_EMAILABLE = frozenset({InvoiceStatus.AWAITING_APPROVAL, InvoiceStatus.OPEN, InvoiceStatus.PAID})
DEFAULT_ACCOUNTS: Mapping[str, Decimal] = {"200": Decimal("0.15"), "260": Decimal("0.15")}
DEFAULT_CURRENCIES = ("NZD", "AUD", "USD", "GBP", "EUR", "JPY")
_AMOUNT_TYPES = tuple(member.value for member in AmountType)

# The test-driver methods the provider had until they moved to ams_billing.testing.FakeDriver.
_DRIVER_METHODS = frozenset(
    {
        "add_payment",
        "clear_faults",
        "contract_harness",
        "count_emails_sent",
        "create_draft_invoice",
        "delete_payment",
        "fail_next",
        "record_payment",
        "sign_delivery",
        "sign_empty_delivery",
        "sign_foreign_delivery",
        "sign_webhook_body",
        "take_webhook_deliveries",
    }
)


class FakeProvider:
    """An in-memory billing provider (its test driver: ``ams_billing.testing.FakeDriver``).

    :param webhook_key: the key deliveries are signed with (never shown in the repr).
    :param accounts: revenue account codes and the tax rate (a fraction) of each.
    :param default_account_code: the account lines use when the request names none.
    :param default_amount_type: the amount type of a request that names none.
    :param currencies: the currency codes invoices may use; the first is the default reported.
    :param can_send_email: false makes the provider unable to email, like a Demo Company.
    :param tenant_id: the tenant its webhook events carry; others are ignored when parsing.
    :param now: the clock (timezone-aware UTC), for tests that control time.
    :param books: the accounting system's books, to share with other instances (as after a
        restart); new, empty books when omitted (on the ``now`` clock).
    :param idempotency_store: this client's ledger of idempotency keys (default: in memory);
        give a durable one (``SqlIdempotencyStore``) so a key never bills twice across restarts.
    :param behaviour: what the fake declares and does (default ``ProviderBehaviour()``, Xero's
        answers, with Intent-to-Receive checks). Another declaration makes it act so:
        ``TaxModel.NO_TAX`` bills no tax, a ``zero_total_status`` of PAID marks a zero
        invoice paid when raised, ``ContactView.SNAPSHOT`` keeps the contact as it was on
        the invoice. The facade enforces quantity places and past due dates for it. Used to
        prove that the contract suite checks what a provider declares (a Stripe-like fake
        passes it too). Its ``webhooks`` declare what the fake's deliveries are like: a
        ``signature_tolerance`` signs them with a timestamp (``x-fake-timestamp``, signed with
        the body) and refuses one signed longer ago, as Stripe does (without one the body alone
        is signed, as Xero does); ``snapshot_events`` puts the invoice's state in each invoice
        event, as Stripe's snapshot events do.
    """

    name = "fake"

    def __init__(
        self,
        *,
        webhook_key: str | None = None,
        accounts: Mapping[str, Decimal] | None = None,
        default_account_code: str = "200",
        default_amount_type: AmountType = AmountType.EXCLUSIVE,
        currencies: Iterable[str] = DEFAULT_CURRENCIES,
        can_send_email: bool = True,
        tenant_id: str = "fake-tenant",
        base_url: str = "https://billing.fake.invalid",
        now: Callable[[], datetime] | None = None,
        books: FakeBooks | None = None,
        idempotency_store: IdempotencyStore | None = None,
        behaviour: ProviderBehaviour | None = None,
    ) -> None:
        self.behaviour = _DEFAULT_BEHAVIOUR if behaviour is None else behaviour
        if self.behaviour.tax_model is TaxModel.PER_INVOICE_HALF_UP:
            raise ValueError("the fake computes tax per line or not at all, not per invoice")
        self._webhook_key = webhook_key or secrets.token_urlsafe(32)
        self.signature_tolerance = self.behaviour.webhooks.signature_tolerance
        self.snapshot_events = self.behaviour.webhooks.snapshot_events
        self.accounts = dict(DEFAULT_ACCOUNTS if accounts is None else accounts)
        if default_account_code not in self.accounts:
            raise ValueError(f"default account {default_account_code!r} is not in accounts")
        self.default_account_code = default_account_code
        self.default_amount_type = AmountType(default_amount_type)
        accepted = tuple(currencies)
        if not accepted:
            raise ValueError("give at least one currency")
        self.currencies = frozenset(accepted)
        self.default_currency = accepted[0]
        self.can_send_email = can_send_email
        self.tenant_id = tenant_id
        self.base_url = base_url.rstrip("/")
        if books is not None and now is not None:
            raise ValueError("the clock belongs to the books: pass now to FakeBooks")
        self.books = FakeBooks(now=now) if books is None else books
        # Short names for the parts of the books (shared with every instance built over them).
        self._clock = self.books.clock
        self._lock = self.books.lock
        self._ids = self.books.ids
        self._contacts = self.books.contacts
        self._invoices = self.books.invoices
        self._payments = self.books.payments
        self._idempotency = self.books.keys  # the accounting system's short memory of keys
        self._emails = self.books.emails
        self._made_under = self.books.made_under
        self._pending_events = self.books.pending_events
        # A durable ledger can outlive books kept in memory (the CLI's fake, run twice): a key
        # counts only against the books it was used with.
        self._once = IdempotentCalls(idempotency_store, namespace=f"{self.books.books_id}:")
        self.ledger: IdempotencyStore = self._once.store
        self._faults = FaultPlan()
        self.calls: list[str] = []

    # pragma: no mutate start (construction and diagnostics, not provider operations: MUTATION.md)
    def __repr__(self) -> str:
        name = type(self).__name__
        return (
            f"{name}(contacts={len(self._contacts)}, invoices={len(self._invoices)}, "
            f"tenant_id={self.tenant_id!r})"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **options: Any) -> FakeProvider:
        """Build from the environment and ``options`` (which win).

        ``AMS_BILLING_FAKE_WEBHOOK_KEY`` is the webhook key (else a random one);
        ``AMS_BILLING_FAKE_AMOUNT_TYPE`` (``INCLUSIVE``, ``EXCLUSIVE`` or ``NO_TAX``, any case;
        default ``EXCLUSIVE``) the amount type of a request that names none.
        """
        options.setdefault("webhook_key", environ.get("AMS_BILLING_FAKE_WEBHOOK_KEY") or None)
        if "default_amount_type" not in options:
            reader = EnvReader(Environment.of(environ))
            chosen = reader.choice("AMS_BILLING_FAKE_AMOUNT_TYPE", _AMOUNT_TYPES)
            if reader.errors:
                raise ConfigurationError(
                    "the fake provider is not configured correctly:", reader.errors
                )
            options["default_amount_type"] = AmountType(chosen or AmountType.EXCLUSIVE.value)
        return cls(**options)

    if not TYPE_CHECKING:  # hidden from type checkers, which would take any name as defined

        def __getattr__(self, name: str) -> Any:
            # Called only for names the instance lacks: say where a moved driver method went.
            if name in _DRIVER_METHODS:
                raise AttributeError(
                    f"{type(self).__name__}.{name} moved to the fake's test driver: use "
                    f"ams_billing.testing.FakeDriver(provider).{name}(...) (the provider answers "
                    "only the operations an AMS calls)",
                    name=name,
                    obj=self,
                )
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self
            )

    # pragma: no mutate end
    # -- operation hooks ------------------------------------------------------------------

    @hookimpl
    def get_capabilities(self) -> frozenset[Capability]:
        """Everything, except email when the fake was built unable to send."""
        offered = set(Capability)
        if not self.can_send_email:
            offered.discard(Capability.SEND_INVOICE)
        return frozenset(offered)

    @hookimpl
    def get_behaviour(self) -> ProviderBehaviour:
        """The behaviour it was built with (by default Xero's answers, Intent-to-Receive too)."""
        return self.behaviour

    @hookimpl
    def get_invoice_defaults(self) -> InvoiceDefaults:
        """``default_amount_type``, ``default_account_code`` and the first currency given."""
        return InvoiceDefaults(
            amount_type=self.default_amount_type,
            currency=self.default_currency,
            account_code=self.default_account_code,
        )

    @hookimpl
    def create_contact(self, contact: Contact, idempotency_key: str) -> ContactRecord:
        """Create or update the contact keyed on its account reference."""
        with self._operation("create_contact"):
            return cast(ContactRecord, self._keyed("create_contact", idempotency_key, contact)[0])

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        """Raise an OPEN invoice with per-line tax."""
        with self._operation("create_invoice"):
            return cast(Invoice, self._keyed("create_invoice", idempotency_key, request)[0])

    @hookimpl
    def create_contacts(
        self, items: Sequence[BatchItem[Contact]]
    ) -> list[BatchResult[ContactRecord]]:
        """Create or update many contacts in one call; each item as ``create_contact``.

        A fault injected for ``create_contacts`` fails the whole call: before anything is
        applied, or (``after_apply``) after every item was.
        """
        with self._operation("create_contacts"):
            return self._keyed_batch("create_contacts", "create_contact", items)

    @hookimpl
    def create_invoices(
        self, items: Sequence[BatchItem[InvoiceRequest]]
    ) -> list[BatchResult[Invoice]]:
        """Raise many invoices in one call; each item as ``create_invoice``.

        A fault injected for ``create_invoices`` fails the whole call: before anything is
        applied, or (``after_apply``) after every item was.
        """
        with self._operation("create_invoices"):
            return self._keyed_batch("create_invoices", "create_invoice", items)

    def _keyed(self, operation: str, key: str, request: Any) -> tuple[Any, bool]:
        """One keyed write through the client's ledger; the result and whether it was new.

        The books apply it (or replay it while they remember the key); an ``after_apply``
        fault then loses the answer, and the ledger keeps the key pending, as a real client's.
        """
        created = False

        def call() -> object:
            nonlocal created
            result, created = self._apply(operation, request, key)
            self._fail_after_apply(operation)
            return result

        result = self._once.run(
            key,
            operation,
            request,
            call=call,
            codec=self._codec(operation),
            find=lambda _: self._find(operation, request, key),
        )
        return result, created

    def _keyed_batch(
        self, batch: str, operation: str, items: Sequence[BatchItem[Any]]
    ) -> list[BatchResult[Any]]:
        """The batch as the single operation per item, the ``after_apply`` fault for all."""
        results: list[BatchResult[Any]] = []
        applied: list[tuple[KeyEntry, BatchResult[Any]]] = []
        codec = self._codec(operation)
        with self._once.hold(*(item.idempotency_key for item in items)):
            for index, item in enumerate(items):
                key = item.idempotency_key
                try:
                    entry = self._once.look_up(key, operation, item.request)
                    if entry.record is not None and entry.done:
                        value = codec.replay(entry.record)
                    elif entry.pending and (found := self._find(operation, item.request, key)):
                        value = found
                        self._once.record(entry, codec.keep(found))
                    else:
                        self._once.mark_pending(entry)
                        value, created = self._apply(operation, item.request, key)
                        outcome = BatchOutcome.CREATED if created else BatchOutcome.EXISTING
                        applied.append((entry, BatchResult(index, key, outcome, result=value)))
                        results.append(applied[-1][1])
                        continue
                except BillingError as error:
                    results.append(BatchResult(index, key, BatchOutcome.FAILED, error=error))
                    continue
                results.append(BatchResult(index, key, BatchOutcome.EXISTING, result=value))
            lost = self._faults.take(batch, after_apply=True)
            for entry, result in applied:
                if lost is None:
                    self._once.record(entry, codec.keep(result.result))
                else:
                    self._once.settle(entry, lost)
            if lost is not None:
                raise lost
        return results

    def _apply(self, operation: str, request: Any, key: str) -> tuple[Any, bool]:
        """The books' part: replay a key they still remember, else make the change."""
        remembered = self._remembered(operation, key, request)
        if remembered is not None:
            if operation == "create_contact":
                # The contact as held now: a later update under another key stays (hookspecs).
                return self._contacts.get(request.account_reference, remembered), False
            if operation == "create_invoice":
                return self._invoices[str(remembered)], False
            return remembered, False
        if operation == "create_contact":
            existed = request.account_reference in self._contacts
            record = self._upsert_contact(request)
            self._idempotency[key] = (operation, request, record)
            return record, not existed
        if operation == "create_invoice":
            invoice = self._new_invoice(request, key)
            self._idempotency[key] = (operation, request, invoice.provider_id)
            return invoice, True
        result = self._email(request)
        self._idempotency[key] = (operation, request, result)
        return result, True

    def _create_invoice(
        self, request: InvoiceRequest, idempotency_key: str
    ) -> tuple[Invoice, bool]:
        return self._apply("create_invoice", request, idempotency_key)

    def _line_rate(self, item: LineItem, account_code: str) -> Decimal:
        """The fraction of tax on a line: none, its own percentage, or its account's rate."""
        if self.behaviour.tax_model is TaxModel.NO_TAX:
            return Decimal(0)
        if item.tax_rate is not None:
            return item.tax_rate / 100
        return self.accounts[account_code]

    def _new_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        self._validate_invoice(request)
        contact = self._upsert_contact(request.contact)
        default_code = request.account_code or self.default_account_code
        amount_type = request.amount_type or self.default_amount_type
        if self.behaviour.tax_model is TaxModel.NO_TAX:
            amount_type = AmountType.NO_TAX
        lines = tuple(
            compute_line(
                item,
                amount_type,
                self._line_rate(item, item.account_code or default_code),
                request.currency,
                item.account_code or default_code,
            )
            for item in request.line_items
        )
        totals = compute_totals(lines, amount_type)
        invoice_id = self._new_id()
        status = InvoiceStatus.OPEN if totals.total else self.behaviour.zero_total_status
        stamp = self._clock.tick()
        invoice = Invoice(
            provider_id=invoice_id,
            number=f"INV-{len(self._invoices) + 1:04d}",
            status=status,
            contact=contact,
            currency=request.currency,
            issue_date=request.issue_date,
            due_date=request.due_date,
            reference=request.reference,
            amount_type=amount_type,
            subtotal=totals.subtotal,
            total_tax=totals.total_tax,
            total=totals.total,
            amount_paid=Decimal(0),
            amount_due=totals.total,
            updated_at=stamp,
            fully_paid_on=stamp.date() if status is InvoiceStatus.PAID else None,
            line_items=lines,
            online_url=f"{self.base_url}/pay/{invoice_id}",
            provider_status=status.value,
        )
        self._invoices[invoice_id] = invoice
        self._made_under[invoice_id] = idempotency_key
        self._emit(
            EventCategory.INVOICE,
            EventType.CREATE,
            invoice_id,
            invoice.updated_at,
            snapshot=self._view(invoice) if self.snapshot_events else None,
        )
        return invoice

    @hookimpl
    def send_invoice(self, invoice: Invoice, idempotency_key: str) -> InvoiceEmailResult:
        """Email the invoice once per key; only AWAITING_APPROVAL, OPEN or PAID invoices."""
        with self._operation("send_invoice"):
            if not self.can_send_email:
                raise UnsupportedOperationError(
                    "this fake provider cannot send email", capability=Capability.SEND_INVOICE.value
                )
            result = self._keyed("send_invoice", idempotency_key, invoice.provider_id)[0]
            return cast(InvoiceEmailResult, result)

    def _email(self, invoice_id: str) -> InvoiceEmailResult:
        current = self._invoice(invoice_id)
        if current.status not in _EMAILABLE:
            raise InvalidStateError(
                f"a {current.status.value} invoice cannot be emailed",
                resource_id=current.provider_id,
            )
        recipient = current.contact.email
        if recipient is None:
            return InvoiceEmailResult(
                current.provider_id, sent=False, skipped_reason=EmailSkipReason.NO_RECIPIENT
            )
        result = InvoiceEmailResult(current.provider_id, sent=True, recipient=recipient)
        self._emails.append(result)
        return result

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        """Verify ``x-fake-signature`` over the raw body, then parse; other tenants dropped."""
        self.calls.append("parse_webhook")
        self._verify(body, headers)
        parsed = decode_delivery(body)
        events = tuple(e for e in parsed.events if e.tenant_id in (None, self.tenant_id))
        if parsed.tenant_id != self.tenant_id:
            events = ()
        return WebhookDelivery(events, parsed.first_sequence, parsed.last_sequence)

    def _verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        signature = header_value(headers, SIGNATURE_HEADER)
        if self.signature_tolerance is None:
            if not signature_matches(body, signature, self._webhook_key):
                raise WebhookVerificationError("the webhook signature does not match the body")
            return
        timestamp = header_value(headers, TIMESTAMP_HEADER) or ""
        # isdigit() alone takes other scripts' digits ("²", "٣"), which are no Unix time.
        well_formed = timestamp.isascii() and timestamp.isdigit()
        signed = signed_part(timestamp, body) if well_formed else b""
        if not well_formed or not signature_matches(signed, signature, self._webhook_key):
            raise WebhookVerificationError(
                f"the webhook signature does not match the body and {TIMESTAMP_HEADER}"
            )
        self._check_age(int(timestamp))

    def _check_age(self, timestamp: int) -> None:
        """Refuse a genuine signature made longer ago than the tolerance (a replay)."""
        assert self.signature_tolerance is not None
        age = self._clock.now().timestamp() - timestamp
        if age > self.signature_tolerance.total_seconds():
            raise WebhookVerificationError(
                f"the delivery was signed {age:.0f} s ago, longer than the tolerance of "
                f"{self.signature_tolerance.total_seconds():.0f} s (a replay, or a clock off)"
            )

    @hookimpl
    def get_invoices(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        """Read invoices by id; unknown ids are left out."""
        with self._operation("get_invoices"):
            unique = dict.fromkeys(invoice_ids)
            return [self._view(self._invoices[i]) for i in unique if i in self._invoices]

    @hookimpl
    def get_invoices_changed_since(self, since: datetime) -> list[Invoice]:
        """Read invoices whose ``updated_at`` is at or after ``since``."""
        with self._operation("get_invoices_changed_since"):
            changed = [self._view(i) for i in self._invoices.values() if i.updated_at >= since]
            return sorted(changed, key=lambda invoice: invoice.updated_at)

    @hookimpl
    def get_invoice_url(self, invoice_id: str) -> str:
        """The invoice's pay page; not for DRAFT invoices."""
        with self._operation("get_invoice_url"):
            invoice = self._invoice(invoice_id)
            if invoice.status is InvoiceStatus.DRAFT or invoice.online_url is None:
                raise InvalidStateError(
                    "a DRAFT invoice has no online view", resource_id=invoice_id
                )
            return invoice.online_url

    @hookimpl
    def void_invoice(self, invoice_id: str) -> Invoice:
        """Void an OPEN invoice without payments; voiding twice changes nothing."""
        with self._operation("void_invoice"):
            invoice = self._invoice(invoice_id)
            if invoice.status is InvoiceStatus.VOID:
                return invoice
            if invoice.status is not InvoiceStatus.OPEN or invoice.amount_paid > 0:
                raise InvalidStateError(
                    f"only an OPEN invoice without payments can be voided; this one is "
                    f"{invoice.status.value} with {invoice.amount_paid} paid",
                    resource_id=invoice_id,
                )
            voided = self._update(invoice, status=InvoiceStatus.VOID, amount_due=Decimal(0))
            self._fail_after_apply("void_invoice")
            return voided

    # -- what the books hold (for tests; the test driver is ams_billing.testing.FakeDriver) ---
    # pragma: no mutate start (inspection, not provider operations: MUTATION.md)

    @property
    def emails_sent(self) -> list[InvoiceEmailResult]:
        """Every email sent, in order."""
        with self._lock:
            return list(self._emails)

    @property
    def contacts(self) -> list[ContactRecord]:
        """Every contact held."""
        with self._lock:
            return list(self._contacts.values())

    @property
    def invoices(self) -> list[Invoice]:
        """Every invoice held."""
        with self._lock:
            return [self._view(invoice) for invoice in self._invoices.values()]

    # pragma: no mutate end
    # -- internals ------------------------------------------------------------------------

    def _operation(self, name: str) -> _Operation:
        return _Operation(self, name)

    def _fail_after_apply(self, operation: str) -> None:
        error = self._faults.take(operation, after_apply=True)
        if error is not None:
            raise error

    def _remembered(self, operation: str, key: str, request: object) -> object | None:
        """The first result of ``key`` while the books remember it; a conflict if reused."""
        stored = self._idempotency.get(key)
        if stored is None:
            return None
        stored_operation, stored_request, result = stored
        if stored_operation != operation or stored_request != request:
            raise IdempotencyConflictError(key, f" ({stored_operation})")
        return result

    def _codec(self, operation: str) -> OutcomeCodec[Any]:
        """What the ledger keeps of a result: the id it is about, and an email's recipient.

        An email result is kept as its invoice's id and the recipient (``None``: skipped, as the
        contact had no address).
        """

        def keep(result: Any) -> Outcome:
            if isinstance(result, InvoiceEmailResult):
                return Outcome(result.invoice_id, result.recipient)
            return Outcome(result.provider_id)

        return OutcomeCodec(keep, lambda record: self._from_ledger(operation, record))

    def _from_ledger(self, operation: str, record: IdempotencyRecord) -> object:
        """The first result as this client's ledger recorded it, once the books forgot the key.

        A contact comes back as the books hold it now (as the Xero provider's ledger answers).
        """
        if operation == "create_contact":
            return next(c for c in self._contacts.values() if c.provider_id == record.result)
        if operation == "send_invoice" and record.detail is None:
            return InvoiceEmailResult(
                str(record.result), sent=False, skipped_reason=EmailSkipReason.NO_RECIPIENT
            )
        if operation == "send_invoice":
            return InvoiceEmailResult(str(record.result), sent=True, recipient=record.detail)
        return self._invoices[str(record.result)]

    def _find(self, operation: str, request: Any, key: str) -> object | None:
        """After an unknown outcome, what the lost attempt made in the books, if anything.

        An invoice by the client's key, which the books keep with it (as metadata); an email by
        the invoice's emails sent (Xero's ``SentToContact``). A contact needs no look-up: the
        upsert on its account reference finds it.
        """
        if operation == "create_invoice":
            made = [i for i, made_under in self._made_under.items() if made_under == key]
            return self._invoices[made[0]] if made else None
        if operation == "send_invoice":
            sent = [e for e in self._emails if e.invoice_id == request]
            return sent[0] if sent else None
        return None

    def _ledger_key(self, key: str) -> str:
        """Where ``key`` is in the ledger: prefixed with the books' id (see ``__init__``)."""
        return self._once.namespace + key

    def _new_id(self) -> str:
        return str(uuid.UUID(int=next(self._ids), version=4))

    def _upsert_contact(self, contact: Contact) -> ContactRecord:
        existing = self._contacts.get(contact.account_reference)
        record = ContactRecord(
            provider_id=existing.provider_id if existing else self._new_id(),
            account_reference=contact.account_reference,
            name=contact.name,
            email=contact.email,
        )
        if record != existing:
            self._contacts[contact.account_reference] = record
            event = EventType.UPDATE if existing else EventType.CREATE
            self._emit(EventCategory.CONTACT, event, record.provider_id, self._clock.tick())
        return record

    def _validate_invoice(self, request: InvoiceRequest) -> None:
        errors = []
        if request.currency not in self.currencies:
            errors.append(
                FieldError(
                    "currency",
                    f"{request.currency} is not enabled",
                    f"use one of {', '.join(sorted(self.currencies))}",
                )
            )
        if request.account_code is not None and request.account_code not in self.accounts:
            errors.append(FieldError("account_code", f"{request.account_code!r} is unknown"))
        for index, item in enumerate(request.line_items):
            if item.account_code is not None and item.account_code not in self.accounts:
                errors.append(
                    FieldError(
                        f"line_items[{index}].account_code", f"{item.account_code!r} is unknown"
                    )
                )
        if errors:
            raise ValidationError(errors)

    def _invoice(self, invoice_id: str) -> Invoice:
        try:
            return self._view(self._invoices[invoice_id])
        except KeyError:
            raise NotFoundError(f"no invoice {invoice_id!r}", resource_id=invoice_id) from None

    def _view(self, invoice: Invoice) -> Invoice:
        if self.behaviour.issued_contact is ContactView.SNAPSHOT:
            return invoice  # the contact as it was when the invoice was raised
        # An invoice points at the live contact, as Xero's does: a changed email is where the
        # next invoice email goes.
        contact = self._contacts.get(invoice.contact.account_reference or "", invoice.contact)
        return invoice if contact == invoice.contact else attrs.evolve(invoice, contact=contact)

    def _update(self, invoice: Invoice, **changes: Any) -> Invoice:
        changes.setdefault("updated_at", self._clock.tick())
        if "status" in changes:  # the fake's own word for a status is the core's name
            changes.setdefault("provider_status", changes["status"].value)
        updated = attrs.evolve(invoice, **changes)
        self._invoices[invoice.provider_id] = updated
        snapshot = self._view(updated) if self.snapshot_events else None
        self._emit(
            EventCategory.INVOICE,
            EventType.UPDATE,
            invoice.provider_id,
            updated.updated_at,
            snapshot=snapshot,
        )
        return updated

    def _emit(
        self,
        category: EventCategory,
        event_type: EventType,
        resource_id: str,
        at: datetime,
        *,
        snapshot: Invoice | None = None,
    ) -> None:
        self._pending_events.append(
            WebhookEvent(
                category=category,
                event_type=event_type,
                resource_id=resource_id,
                occurred_at=at,
                tenant_id=self.tenant_id,
                resource_url=f"{self.base_url}/{category.value.lower()}s/{resource_id}",
                snapshot=snapshot,
            )
        )


class _Operation:
    """Holds the lock for one operation, records the call and fires a due fault first."""

    def __init__(self, provider: FakeProvider, name: str) -> None:
        self.provider = provider
        self.name = name

    def __enter__(self) -> None:
        self.provider._lock.acquire()
        self.provider.calls.append(self.name)
        error = self.provider._faults.take(self.name, after_apply=False)
        if error is not None:
            self.provider._lock.release()
            raise error

    def __exit__(self, *exc_info: object) -> None:
        self.provider._lock.release()


# Old names, kept with a DeprecationWarning (issue 18). Type checkers see plain aliases, so
# code typed against the old names still checks; at run time each use warns.
if TYPE_CHECKING:
    FakeBillingService = FakeProvider
else:
    __getattr__ = moved(
        __name__,
        {
            "FakeBillingService": "ams_billing.providers.fake.provider:FakeProvider",
        },
    )
