"""A Hypothesis state machine that runs one program against a provider and against the fake.

:class:`ProviderComparison` drives the provider under test and a
:class:`~ams_billing.providers.fake.FakeProvider` configured like it
(:func:`~ams_billing.testing.fake.reference_harness`) (same currency,
account and tax rate, same email capability) with the same random sequence of operations:
create contacts and invoices, retry with the same key, reuse a key for something else, send,
pay (partly or fully, through each driver), deliver webhooks (duplicated, reordered, tampered,
replayed), read, sync changed invoices, void, and lose responses when the driver injects faults.
After each step it compares the two sides, with provider ids, numbers and timestamps normalised
away: statuses, totals, amounts, line amounts and taxes, what listeners heard, and the class of
every error must agree. The fake is the oracle, as zarr's ``MemoryStore`` is for its stores.

Run it for your own provider with::

    run_state_machine_as_test(lambda: ProviderComparison(make_harness), settings=STATEFUL)
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from ams_billing.contracts import strategies
from ams_billing.contracts.builders import unique
from ams_billing.contracts.checks import RecordingListener, money, retargeted
from ams_billing.core import errors
from ams_billing.core.behaviour import TaxModel
from ams_billing.core.models import (
    Capability,
    Contact,
    Invoice,
    InvoiceRequest,
    InvoiceStatus,
    LineItem,
)
from ams_billing.core.money import currency_places
from ams_billing.core.service import BillingService
from ams_billing.testing.fake import reference_harness
from ams_billing.testing.harness import ContractHarness, FaultInjector, SignedDelivery

__all__ = ["ProviderComparison", "error_class", "reference_harness"]

T = TypeVar("T")

_ERROR_CLASSES: tuple[type[errors.BillingError], ...] = (
    errors.IdempotencyConflictError,
    errors.ProviderNotFoundError,
    errors.ValidationError,
    errors.ConfigurationError,
    errors.AuthenticationError,
    errors.RateLimitedError,
    errors.NotFoundError,
    errors.InvalidStateError,
    errors.UnsupportedOperationError,
    errors.WebhookVerificationError,
    errors.ProviderUnavailableError,
    errors.BillingError,
)


def error_class(error: errors.BillingError) -> type[errors.BillingError]:
    """The most specific class of the public error tree that ``error`` is an instance of."""
    return next(cls for cls in _ERROR_CLASSES if isinstance(error, cls))


@attrs.frozen
class CallOutcome(Generic[T]):
    """What one call did on one side: a value, or the class of the error it raised."""

    value: T | None
    error: type[errors.BillingError] | None

    @property
    def ok(self) -> bool:
        """True when the call returned."""
        return self.error is None

    def get(self) -> T:
        """The value of a call that returned."""
        assert self.value is not None, "no value: the call raised"
        return self.value


def attempt(call: Callable[[], T]) -> CallOutcome[T]:
    """Run ``call``; a BillingError becomes its class, anything else propagates (a bug)."""
    try:
        return CallOutcome(call(), None)
    except errors.BillingError as error:
        return CallOutcome(None, error_class(error))


class _Pairing:
    """Pairs the provider's ids with the fake's, one to one, under small aliases."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.subject: dict[str, int] = {}
        self.reference: dict[str, int] = {}
        self._aliases = itertools.count(1)

    def pair(self, subject_id: str, reference_id: str) -> int:
        alias = self.subject.get(subject_id)
        if alias is None and reference_id not in self.reference:
            alias = next(self._aliases)
            self.subject[subject_id] = self.reference[reference_id] = alias
            return alias
        _check(
            alias is not None and self.reference.get(reference_id) == alias,
            f"{self.what} identity differs: the provider's {subject_id!r} is "
            f"{self._name(alias)}, but the fake's {reference_id!r} is "
            f"{self._name(self.reference.get(reference_id))}",
        )
        assert alias is not None
        return alias

    def alias(self, ids: dict[str, int], provider_id: str, side: str) -> int:
        alias = ids.get(provider_id)
        _check(
            alias is not None,
            f"the {side} reported {self.what} {provider_id!r}, which no operation created",
        )
        assert alias is not None
        return alias

    def _name(self, alias: int | None) -> str:
        return "new" if alias is None else f"{self.what} #{alias}"


@attrs.define
class _Side:
    """One provider in the comparison, its listener and what it has shown so far."""

    name: str
    harness: ContractHarness
    ids: dict[str, int]
    listener: RecordingListener = attrs.field(factory=RecordingListener)
    deliveries: list[SignedDelivery] = attrs.field(factory=list)
    last_read: dict[str, datetime] = attrs.field(factory=dict)
    first_invoice_at: datetime | None = None

    @property
    def service(self) -> BillingService:
        return self.harness.service


@attrs.frozen
class InvoicePair:
    """The same invoice on both sides."""

    alias: int
    subject_id: str
    reference_id: str


@attrs.frozen
class _Keyed:
    """A create made under an idempotency key, to be retried or reused."""

    key: str
    request: Contact | InvoiceRequest
    alias: int


@functools.cache
def _requests(
    currency: str, account_code: str | None, quantity_places: int
) -> st.SearchStrategy[InvoiceRequest]:
    """Requests of up to four lines; the machine puts in the account's reference and email."""
    contacts = strategies.contacts(account_references=st.just("account"), emails=st.none())
    return strategies.invoice_requests(
        contacts=contacts,
        currency=currency,
        account_code=account_code,
        max_lines=4,
        allow_zero_total=False,
        quantity_places=quantity_places,
    )


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _same(what: str, provider: object, fake: object) -> None:
    _check(provider == fake, f"{what} differs:\n  provider: {provider!r}\n  fake:     {fake!r}")


class ProviderComparison(RuleBasedStateMachine):
    """Runs random operation sequences against a provider and the fake, and compares them."""

    invoices = Bundle("invoices")

    def __init__(self, factory: Callable[[], ContractHarness]) -> None:
        super().__init__()
        subject = factory()
        try:
            reference = reference_harness(subject)
        except BaseException:
            subject.close()
            raise
        self.contact_ids = _Pairing("contact")
        self.invoice_ids = _Pairing("invoice")
        self.subject = _Side("provider", subject, self.invoice_ids.subject)
        self.reference = _Side("fake", reference, self.invoice_ids.reference)
        for side in self.sides:
            side.service.add_listener(side.listener)
        self.capabilities = subject.service.capabilities
        behaviour = subject.service.behaviour
        self.quantity_places = behaviour.quantity_places
        # Tax is known when the harness states the rate, or when the provider computes none;
        # per invoice, the lines' taxes differ from the fake's per-line ones.
        self.tax_known = (
            subject.tax_rate is not None or behaviour.tax_model is TaxModel.NO_TAX
        ) and behaviour.tax_model is not TaxModel.PER_INVOICE_HALF_UP
        self.currency = subject.currency
        self.account_code = subject.account_code
        self.accounts: list[tuple[str, str | None]] = []
        self.keyed: list[_Keyed] = []
        self.with_payments: list[InvoicePair] = []
        self.run_id = unique("run")

    @property
    def sides(self) -> tuple[_Side, _Side]:
        """The provider under test, then the fake."""
        return self.subject, self.reference

    def teardown(self) -> None:
        """Close both harnesses."""
        for side in self.sides:
            side.harness.close()

    # -- comparison helpers ------------------------------------------------------------

    def _both(self, what: str, call: Callable[[_Side], T]) -> tuple[CallOutcome[T], CallOutcome[T]]:
        provider = attempt(lambda: call(self.subject))
        fake = attempt(lambda: call(self.reference))
        _same(f"{what}: the error raised", provider.error, fake.error)
        return provider, fake

    def _invoice_view(self, side: _Side, invoice: Invoice, *, created: bool) -> tuple[Any, ...]:
        alias = self.invoice_ids.alias(side.ids, invoice.provider_id, side.name)
        lines = tuple(
            (line.description, line.quantity, line.unit_amount, line.line_amount)
            + ((line.tax_amount,) if self.tax_known else ())
            for line in invoice.line_items
        )
        fixed = (
            alias,
            invoice.contact.account_reference,
            invoice.currency,
            invoice.issue_date,
            invoice.due_date,
            invoice.reference,
            invoice.amount_type,
            (invoice.subtotal, invoice.total_tax, invoice.total) if self.tax_known else (),
            lines,
        )
        if created:
            return fixed
        amounts = (
            (invoice.amount_paid, invoice.amount_due)
            if self.tax_known
            else (invoice.amount_paid > 0, invoice.amount_due == 0)
        )
        return (*fixed, invoice.status, amounts, invoice.fully_paid_on is not None)

    def _compare_invoices(
        self, what: str, provider: Invoice, fake: Invoice, *, created: bool = False
    ) -> None:
        _same(
            what,
            self._invoice_view(self.subject, provider, created=created),
            self._invoice_view(self.reference, fake, created=created),
        )
        for side, invoice in zip(self.sides, (provider, fake), strict=True):
            seen = side.last_read.get(invoice.provider_id)
            _check(
                seen is None or invoice.updated_at >= seen or created,
                f"{what}: the {side.name} returned invoice {invoice.provider_id} updated at "
                f"{invoice.updated_at}, older than the {seen} it showed before",
            )
            if not created:
                side.last_read[invoice.provider_id] = invoice.updated_at

    def _new_key(self) -> str:
        return unique("key")

    def _request(self, data: st.DataObject, *, account: int) -> InvoiceRequest:
        reference, email = self.accounts[account % len(self.accounts)]
        drawn = data.draw(_requests(self.currency, self.account_code, self.quantity_places))
        contact = Contact(account_reference=reference, name=drawn.contact.name, email=email)
        return attrs.evolve(drawn, contact=contact)

    def _created(
        self, key: str, request: InvoiceRequest, pair: tuple[Invoice, Invoice]
    ) -> InvoicePair:
        provider, fake = pair
        alias = self.invoice_ids.pair(provider.provider_id, fake.provider_id)
        self._compare_invoices("the created invoice", provider, fake)
        _check(
            provider.status is InvoiceStatus.OPEN,
            f"a new invoice must be OPEN, the provider says {provider.status}",
        )
        self.contact_ids.pair(provider.contact.provider_id, fake.contact.provider_id)
        for side, invoice in zip(self.sides, pair, strict=True):
            side.first_invoice_at = side.first_invoice_at or invoice.updated_at
        self.keyed.append(_Keyed(key, request, alias))
        return InvoicePair(alias, provider.provider_id, fake.provider_id)

    # -- rules ---------------------------------------------------------------------------

    @initialize(emails=st.lists(st.one_of(st.none(), strategies.emails()), min_size=2, max_size=4))
    def open_accounts(self, emails: list[str | None]) -> None:
        """Billing accounts: a fixed reference and email each; names change as they go."""
        self.accounts = [(unique("member"), email) for email in emails]

    @rule(account=st.integers(min_value=0), name=strategies.contact_names())
    def create_contact(self, account: int, name: str) -> None:
        """Create or update an account's contact under a new key."""
        reference, email = self.accounts[account % len(self.accounts)]
        contact = Contact(account_reference=reference, name=name, email=email)
        key = self._new_key()
        provider, fake = self._both(
            "create_contact",
            lambda side: side.service.create_contact(contact, idempotency_key=key),
        )
        if provider.ok:
            records = provider.get(), fake.get()
            _same(
                "the contact record",
                *((r.account_reference, r.name, r.email) for r in records),
            )
            alias = self.contact_ids.pair(records[0].provider_id, records[1].provider_id)
            self.keyed.append(_Keyed(key, contact, alias))

    @rule(
        target=invoices,
        account=st.integers(min_value=0),
        currency_enabled=st.sampled_from([True, True, True, False]),
        data=st.data(),
    )
    def create_invoice(self, account: int, currency_enabled: bool, data: st.DataObject) -> object:
        """Create an invoice under a new key; sometimes in a currency no one enables (XXX)."""
        request = self._request(data, account=account)
        if not currency_enabled:
            request = attrs.evolve(request, currency="XXX")
        key = self._new_key()
        provider, fake = self._both(
            f"create_invoice in {request.currency}",
            lambda side: side.service.create_invoice(request, idempotency_key=key),
        )
        if not provider.ok:
            return multiple()
        return self._created(key, request, (provider.get(), fake.get()))

    @precondition(lambda self: bool(self.keyed))
    @rule(data=st.data())
    def retry_with_the_same_key(self, data: st.DataObject) -> None:
        """Repeat an earlier create with its key: the same record, nothing new."""
        keyed = data.draw(st.sampled_from(self.keyed))
        request = keyed.request
        if isinstance(request, Contact):
            contact = request
            provider_c, fake_c = self._both(
                "create_contact retried",
                lambda side: side.service.create_contact(contact, idempotency_key=keyed.key),
            )
            if provider_c.ok:
                pair = self.contact_ids.pair(provider_c.get().provider_id, fake_c.get().provider_id)
                _same("the contact a retry returned", pair, keyed.alias)
            return
        invoice_request = request
        provider, fake = self._both(
            "create_invoice retried",
            lambda side: side.service.create_invoice(invoice_request, idempotency_key=keyed.key),
        )
        if provider.ok:
            alias = self.invoice_ids.pair(provider.get().provider_id, fake.get().provider_id)
            _same("the invoice a retry returned", alias, keyed.alias)
            self._compare_invoices(
                "the invoice a retry returned", provider.get(), fake.get(), created=True
            )
        self._same_invoices_listed()

    @precondition(lambda self: bool(self.keyed))
    @rule(data=st.data())
    def reuse_a_key_for_something_else(self, data: st.DataObject) -> None:
        """An earlier key with a different request: the same error on both sides."""
        keyed = data.draw(st.sampled_from(self.keyed))
        request = keyed.request
        if isinstance(request, Contact):
            changed_contact = attrs.evolve(request, name=f"{request.name[:240]} (changed)")
            self._both(
                "create_contact with a reused key",
                lambda side: side.service.create_contact(
                    changed_contact, idempotency_key=keyed.key
                ),
            )
            return
        extra = LineItem("Reused key", Decimal(1), Decimal("1.00"))
        changed = attrs.evolve(request, line_items=[*request.line_items, extra])
        provider, _ = self._both(
            "create_invoice with a reused key",
            lambda side: side.service.create_invoice(changed, idempotency_key=keyed.key),
        )
        _same("the error", provider.error, errors.IdempotencyConflictError)

    @precondition(lambda self: Capability.SEND_INVOICE in self.capabilities)
    @rule(invoice=invoices, explicit_key=st.booleans())
    def send(self, invoice: InvoicePair, explicit_key: bool) -> None:
        """Email an invoice, with its default key or a reused explicit one."""
        key = f"send:{self.run_id}:{invoice.alias}" if explicit_key else None
        provider, fake = self._both(
            "send_invoice",
            lambda side: side.service.send_invoice(self._id(side, invoice), idempotency_key=key),
        )
        if provider.ok:
            _same(
                "the email result",
                *(
                    (
                        self.invoice_ids.alias(side.ids, result.invoice_id, side.name),
                        result.sent,
                        result.recipient,
                        result.skipped_reason,
                    )
                    for side, result in zip(self.sides, (provider.get(), fake.get()), strict=True)
                ),
            )

    @rule(invoice=invoices, full=st.booleans(), percent=st.integers(min_value=1, max_value=99))
    def pay(self, invoice: InvoicePair, full: bool, percent: int) -> None:
        """The member pays all or part of what is due, through each side's driver."""
        before = self._read(invoice)
        if before is None:
            return
        amounts = []
        for current in before:
            if current.status is not InvoiceStatus.OPEN or current.amount_due <= 0:
                return
            minor = Decimal(1).scaleb(-currency_places(current.currency))
            part = money(current.amount_due * percent / 100, current.currency)
            part = min(max(part, minor), current.amount_due)
            amounts.append(current.amount_due if full else part)
        provider, _ = self._both(
            "record_payment",
            lambda side: side.harness.driver.record_payment(
                self._id(side, invoice), amounts[0 if side is self.subject else 1]
            ),
        )
        if provider.ok and invoice not in self.with_payments:
            self.with_payments.append(invoice)

    @precondition(lambda self: Capability.WEBHOOKS in self.capabilities)
    @rule(
        duplicate=st.booleans(),
        reverse=st.booleans(),
        tamper=st.booleans(),
        replay=st.booleans(),
        data=st.data(),
    )
    def deliver_webhooks(
        self, duplicate: bool, reverse: bool, tamper: bool, replay: bool, data: st.DataObject
    ) -> None:
        """Deliver what each driver signed: maybe forged first, reordered, twice.

        Then maybe replay an old delivery, which must change nothing.
        """
        for side in self.sides:
            batch = side.harness.driver.take_webhook_deliveries()
            side.deliveries.extend(batch)
            if tamper:
                for delivery in batch:
                    forged = retargeted(delivery)
                    status = side.service.handle_webhook(forged.body, forged.headers).status
                    _check(status == 401, f"the {side.name} answered {status} to a forged delivery")
            ordered = list(reversed(batch)) if reverse else batch
            for delivery in ordered * (2 if duplicate else 1):
                self._process(side, delivery)
            if replay and side.deliveries:
                old = data.draw(st.sampled_from(side.deliveries), label=f"{side.name} replays")
                heard = len(side.listener.changes)
                self._process(side, old)
                _check(
                    len(side.listener.changes) == heard,
                    f"replaying an old delivery made the {side.name} notify "
                    f"{[c.kind.value for c in side.listener.changes[heard:]]}",
                )

    @rule(invoice=invoices, unknown=st.booleans())
    def read(self, invoice: InvoicePair, unknown: bool) -> None:
        """Read an invoice and its pay link on both sides; maybe an id nobody created too."""
        self._read(invoice)
        if Capability.ONLINE_INVOICE_URL in self.capabilities:
            provider, _ = self._both(
                "get_invoice_url",
                lambda side: side.service.get_invoice_url(self._id(side, invoice)),
            )
            if provider.ok:
                _check(provider.get().startswith(("https://", "http://")), provider.get())
        if unknown:
            self._both(
                "get_invoice of an unknown id",
                lambda side: side.service.get_invoice("00000000-0000-4000-8000-00000000beef"),
            )

    @precondition(
        lambda self: (
            Capability.CHANGED_SINCE in self.capabilities
            and self.subject.first_invoice_at is not None
        )
    )
    @rule()
    def sync_changed_since(self) -> None:
        """List and sync every invoice of this run: the same ones, and no unknown ones."""
        self._same_invoices_listed()
        for side in self.sides:
            assert side.first_invoice_at is not None
            side.service.sync_changed_since(side.first_invoice_at - timedelta(seconds=1))

    @precondition(lambda self: Capability.VOID_INVOICE in self.capabilities)
    @rule(invoice=invoices)
    def void(self, invoice: InvoicePair) -> None:
        """Void an invoice (refused once anything is paid)."""
        self._void(invoice)

    @precondition(
        lambda self: Capability.VOID_INVOICE in self.capabilities and bool(self.with_payments)
    )
    @rule(data=st.data())
    def void_an_invoice_with_payments(self, data: st.DataObject) -> None:
        """Try to void an invoice that has payments: refused on both sides."""
        self._void(data.draw(st.sampled_from(self.with_payments)))

    @precondition(lambda self: isinstance(self.subject.harness.driver, FaultInjector))
    @rule(
        target=invoices, account=st.integers(min_value=0), after_apply=st.booleans(), data=st.data()
    )
    def create_invoice_with_a_lost_message(
        self, account: int, after_apply: bool, data: st.DataObject
    ) -> object:
        """The request or its response is lost; the retry with the same key creates one."""
        request = self._request(data, account=account)
        key = self._new_key()

        def fail_then_create(side: _Side) -> Invoice:
            driver = side.harness.driver
            assert isinstance(driver, FaultInjector)
            driver.fail_next(
                1,
                errors.ProviderUnavailableError,
                operations=["create_invoice"],
                after_apply=after_apply,
            )
            return side.service.create_invoice(request, idempotency_key=key)

        self._both("create_invoice that fails", fail_then_create)
        provider, fake = self._both(
            "create_invoice retried after a failure",
            lambda side: side.service.create_invoice(request, idempotency_key=key),
        )
        if not provider.ok:
            return multiple()
        created = self._created(key, request, (provider.get(), fake.get()))
        self._same_invoices_listed()
        return created

    @invariant()
    def listeners_heard_the_same(self) -> None:
        """Each invoice's changes, as listeners heard them, agree (per invoice, in order)."""
        heard = []
        for side in self.sides:
            per_invoice: dict[int, list[tuple[object, ...]]] = {}
            for change in side.listener.changes:
                alias = self.invoice_ids.alias(side.ids, change.invoice.provider_id, side.name)
                amount = change.invoice.amount_paid if self.tax_known else None
                per_invoice.setdefault(alias, []).append(
                    (change.kind.value, change.invoice.status, amount)
                )
            heard.append(per_invoice)
        _same("what listeners heard", heard[0], heard[1])

    # -- internals -------------------------------------------------------------------------

    def _id(self, side: _Side, invoice: InvoicePair) -> str:
        return invoice.subject_id if side is self.subject else invoice.reference_id

    def _same_invoices_listed(self) -> None:
        """Every invoice either side lists since its first one is one this run created."""
        if Capability.CHANGED_SINCE not in self.capabilities:
            return
        found = []
        for side in self.sides:
            if side.first_invoice_at is None:
                return
            since = side.first_invoice_at - timedelta(seconds=1)
            listed = side.service.get_invoices_changed_since(since)
            found.append(
                sorted({self.invoice_ids.alias(side.ids, i.provider_id, side.name) for i in listed})
            )
        _same("the invoices listed as changed since the first one", found[0], found[1])

    def _void(self, invoice: InvoicePair) -> None:
        provider, fake = self._both(
            "void_invoice", lambda side: side.service.void_invoice(self._id(side, invoice))
        )
        if provider.ok:
            self._compare_invoices("the voided invoice", provider.get(), fake.get())

    def _read(self, invoice: InvoicePair) -> tuple[Invoice, Invoice] | None:
        provider, fake = self._both(
            "get_invoice", lambda side: side.service.get_invoice(self._id(side, invoice))
        )
        if not provider.ok:
            return None
        self._compare_invoices("the invoice read", provider.get(), fake.get())
        return provider.get(), fake.get()

    def _process(self, side: _Side, delivery: SignedDelivery) -> None:
        response = side.service.handle_webhook(delivery.body, delivery.headers)
        _check(
            response.status == 200 and response.delivery is not None,
            f"the {side.name} answered {response.status} to its own driver's delivery "
            f"({response.reason})",
        )
        assert response.delivery is not None
        side.service.process_webhook(response.delivery)
