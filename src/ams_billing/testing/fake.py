"""The fake provider's test driver and contract harness.

:class:`FakeDriver` acts as the world outside the AMS for a
:class:`~ams_billing.providers.fake.FakeProvider`: the member paying, the fake accounting
system calling back with signed webhooks, faults injected on purpose. It is kept apart from the
provider (which only answers the operations an AMS calls) and works on the provider's books.

:func:`restartable_harness` is the fake's harness, registered under the entry-point group
``ams_billing.contract_harnesses`` as ``fake`` (and so what
``pytest --pyargs ams_billing.contracts --billing-provider=fake`` runs). Its ``restart`` builds a
new instance over the same books, as after the AMS process restarted, and has the books forget
their idempotency keys, as the accounting system's window passing would; its
``expire_remote_keys`` has them forget without a restart (the same instance goes on).
:func:`reference_harness` is the fake the contract's state machine compares a provider with.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from ams_billing.core.behaviour import ProviderBehaviour, TaxModel, WebhookBehaviour
from ams_billing.core.errors import BillingError, InvalidStateError, NotFoundError, ValidationError
from ams_billing.core.models import (
    AmountType,
    Capability,
    EventCategory,
    EventType,
    Invoice,
    InvoiceRequest,
    InvoiceStatus,
    WebhookEvent,
)
from ams_billing.core.money import currency_places, decimal_places, to_decimal
from ams_billing.core.service import BillingService
from ams_billing.core.signing import sign_body
from ams_billing.providers.fake.books import FakeBooks, FakePayment
from ams_billing.providers.fake.provider import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    FakeProvider,
    signed_part,
)
from ams_billing.providers.fake.wire import FakeDeliveryBody, encode_delivery
from ams_billing.testing.harness import ContractHarness, SignedDelivery
from ams_billing.testing.scratch import ScratchStores

__all__ = ["FakeDriver", "reference_harness", "restartable_harness"]

_DEFAULT_ACCOUNT = "200"
_DEFAULT_RATE = Decimal("0.15")


class FakeDriver:
    """The fake's :class:`~ams_billing.testing.ProviderTestDriver`, with every optional protocol.

    It implements :class:`~ams_billing.testing.FaultInjector`,
    :class:`~ams_billing.testing.EmailCounter`, :class:`~ams_billing.testing.WebhookSigner` and
    :class:`~ams_billing.testing.DraftMaker` over ``provider``'s books. Stateless itself: two
    drivers over one provider (or over instances sharing books) see and change the same books.
    """

    def __init__(self, provider: FakeProvider) -> None:
        self.provider = provider

    def __repr__(self) -> str:
        return f"FakeDriver({self.provider!r})"

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        """Pay ``amount`` towards the invoice, as the member would; PAID when nothing is due."""
        self.add_payment(invoice_id, amount)

    def add_payment(self, invoice_id: str, amount: Decimal | str) -> FakePayment:
        """Like :meth:`record_payment`, returning the payment (to delete it later)."""
        fake = self.provider
        value = to_decimal(amount, "amount")
        with fake.books.lock:
            invoice = fake._invoice(invoice_id)
            if invoice.status is not InvoiceStatus.OPEN:
                raise InvalidStateError(
                    f"payments apply only to OPEN invoices, not {invoice.status.value}",
                    resource_id=invoice_id,
                )
            if value <= 0 or decimal_places(value) > currency_places(invoice.currency):
                raise ValidationError.for_field(
                    "amount", f"{value} is not a positive {invoice.currency} amount"
                )
            if value > invoice.amount_due:
                raise ValidationError.for_field(
                    "amount", f"{value} exceeds the amount due ({invoice.amount_due})"
                )
            paid = invoice.amount_paid + value
            due = invoice.total - paid
            stamp = fake.books.clock.tick()
            fake._update(
                invoice,
                status=InvoiceStatus.PAID if due == 0 else InvoiceStatus.OPEN,
                amount_paid=paid,
                amount_due=due,
                fully_paid_on=stamp.date() if due == 0 else None,
                updated_at=stamp,
            )
            payment = FakePayment(fake._new_id(), invoice_id, value, stamp)
            fake.books.payments[payment.payment_id] = payment
            return payment

    def delete_payment(self, payment_id: str) -> None:
        """Reverse a payment; a PAID invoice returns to OPEN."""
        fake = self.provider
        with fake.books.lock:
            payment = fake.books.payments.get(payment_id)
            if payment is None or payment.deleted:
                raise NotFoundError(f"no payment {payment_id!r}", resource_id=payment_id)
            invoice = fake._invoice(payment.invoice_id)
            paid = invoice.amount_paid - payment.amount
            fake._update(
                invoice,
                status=InvoiceStatus.OPEN,
                amount_paid=paid,
                amount_due=invoice.total - paid,
                fully_paid_on=None,
            )
            fake.books.payments[payment_id] = attrs.evolve(payment, deleted=True)

    def take_webhook_deliveries(self) -> list[SignedDelivery]:
        """Return one signed delivery carrying every event since the last call."""
        books = self.provider.books
        with books.lock:
            if not books.pending_events:
                return []
            events = tuple(books.pending_events)
            books.pending_events.clear()
            first = books.sequence + 1
            books.sequence += len(events)
            body = FakeDeliveryBody(events, first, books.sequence, self.provider.tenant_id)
            return [self.sign_delivery(body)]

    def sign_delivery(
        self, body: FakeDeliveryBody | bytes, *, at: datetime | None = None
    ) -> SignedDelivery:
        """Sign a body (a delivery, or raw bytes for hostile tests) with the webhook key."""
        raw = body if isinstance(body, bytes) else encode_delivery(body)
        return SignedDelivery(raw, self.sign_webhook(raw, at=at))

    def sign_webhook(self, body: bytes, *, at: datetime | None = None) -> dict[str, str]:
        """The headers signing ``body`` (see WebhookSigner); ``at`` counts with a tolerance.

        Without a ``signature_tolerance`` the fake signs the body alone and ``at`` is ignored;
        with one, ``at`` (default: the books' clock now) is the signed timestamp.
        """
        fake = self.provider
        headers = {"content-type": "application/json"}
        if fake.signature_tolerance is None:
            headers[SIGNATURE_HEADER] = sign_body(body, fake._webhook_key)
            return headers
        stamp = str(int((at or fake.books.clock.now()).timestamp()))
        headers[TIMESTAMP_HEADER] = stamp
        headers[SIGNATURE_HEADER] = sign_body(signed_part(stamp, body), fake._webhook_key)
        return headers

    def sign_webhook_body(self, body: bytes) -> SignedDelivery:
        """Sign arbitrary bytes (see WebhookSigner): for hostile and malformed bodies."""
        return self.sign_delivery(body)

    def sign_foreign_delivery(self, invoice_id: str) -> SignedDelivery:
        """A delivery about ``invoice_id`` signed with this key, for another tenant."""
        fake = self.provider
        other = f"not-{fake.tenant_id}"
        event = WebhookEvent(
            category=EventCategory.INVOICE,
            event_type=EventType.UPDATE,
            resource_id=invoice_id,
            occurred_at=fake.books.clock.tick(),
            tenant_id=other,
            resource_url=f"{fake.base_url}/invoices/{invoice_id}",
        )
        return self.sign_delivery(FakeDeliveryBody((event,), 1, 1, other))

    def sign_empty_delivery(self) -> SignedDelivery:
        """An Intent-to-Receive check: a signed delivery with no events."""
        return self.sign_delivery(FakeDeliveryBody((), 0, 0, self.provider.tenant_id))

    def create_draft_invoice(self, request: InvoiceRequest) -> Invoice:
        """Put ``request`` in the books as a DRAFT invoice (see DraftMaker)."""
        fake = self.provider
        with fake.books.lock:
            invoice, _ = fake._create_invoice(request, f"draft:{uuid.uuid4()}")
            return fake._update(invoice, status=InvoiceStatus.DRAFT, online_url=None)

    def count_emails_sent(self, invoice_id: str) -> int:
        """How many emails were really sent for the invoice (see EmailCounter)."""
        books = self.provider.books
        with books.lock:
            return sum(1 for email in books.emails if email.invoice_id == invoice_id)

    def fail_next(
        self,
        count: int,
        error: type[BillingError],
        *,
        operations: Iterable[str] | None = None,
        after_apply: bool = False,
    ) -> None:
        """Make the next ``count`` operations fail with ``error`` (see FaultInjector).

        ``operations`` are hook names (``create_invoice``, ``send_invoice``, ...); the fault
        plan belongs to the provider instance, not to its books.
        """
        self.provider._faults.add(count, error, operations, after_apply)

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        self.provider._faults.clear()


def restartable_harness(
    provider_class: type[FakeProvider] = FakeProvider,
    *,
    durable: bool = True,
    signature_tolerance: timedelta | None = None,
    snapshot_events: bool = False,
) -> ContractHarness:
    """A harness over a fresh fake (of ``provider_class``) whose ``restart`` keeps its books.

    ``signature_tolerance`` and ``snapshot_events`` make the fake declare (and do) those
    webhook behaviours (a ``provider_class`` may declare its own ``behaviour`` instead); with a
    tolerance the suite's tolerance and replay tests run on the fake too.

    With ``durable`` (the default) the ledger and the invoice states are kept in an SQLite file
    in a temporary directory, deleted by ``close``: they survive the restart, as on the SQL
    stores of a deployment. Without it they are in memory and lost at each restart, as in a
    provider that keeps no durable ledger: the restart tests must fail for that one.
    """
    scratch = ScratchStores() if durable else None
    books = FakeBooks()
    webhook_key = secrets.token_urlsafe(32)

    options: dict[str, Any] = {}
    if signature_tolerance is not None or snapshot_events:
        webhooks = WebhookBehaviour(
            intent_to_receive=True,
            signature_tolerance=signature_tolerance,
            snapshot_events=snapshot_events,
        )
        options["behaviour"] = ProviderBehaviour(webhooks=webhooks)

    def build() -> tuple[FakeProvider, BillingService]:
        stores = scratch.stores if scratch is not None else None
        provider = provider_class(
            **options,
            webhook_key=webhook_key,
            # Not the model's old EXCLUSIVE: a request naming no amount type must get this.
            default_amount_type=AmountType.INCLUSIVE,
            books=books,
            idempotency_store=stores.idempotency if stores is not None else None,
        )
        state = stores.invoice_state if stores is not None else None
        return provider, BillingService(provider, state_store=state)

    def restart() -> BillingService:
        books.expire_keys()  # the restart outlasts the system's key window
        return build()[1]

    provider, service = build()
    return ContractHarness(
        service=service,
        driver=FakeDriver(provider),
        currency="NZD",
        account_code="200",
        tax_rate=provider.accounts["200"],
        close=scratch.close if scratch is not None else lambda: None,
        other_currencies=("JPY", "USD"),
        restart=restart,
        expire_remote_keys=books.expire_keys,
        secrets=(webhook_key,),
        environ={
            "AMS_BILLING_FAKE_WEBHOOK_KEY": webhook_key,
            "AMS_BILLING_FAKE_AMOUNT_TYPE": AmountType.INCLUSIVE.value,
        },
    )


def reference_harness(subject: ContractHarness) -> ContractHarness:
    """A fresh fake configured like ``subject``: currency, account, rate, amount type, email.

    It declares what ``subject`` declares (its ``behaviour``), but taxes per line where that
    taxes per invoice, which the fake does not do (the comparison leaves tax out then).
    """
    code = subject.account_code or _DEFAULT_ACCOUNT
    rate = subject.tax_rate if subject.tax_rate is not None else _DEFAULT_RATE
    behaviour = subject.service.behaviour
    if behaviour.tax_model is TaxModel.PER_INVOICE_HALF_UP:
        behaviour = attrs.evolve(behaviour, tax_model=TaxModel.PER_LINE_HALF_UP)
    provider = FakeProvider(
        behaviour=behaviour,
        accounts={code: rate},
        default_account_code=code,
        default_amount_type=subject.service.invoice_defaults.amount_type,
        currencies=[subject.currency],
        can_send_email=Capability.SEND_INVOICE in subject.service.capabilities,
    )
    return ContractHarness(
        service=BillingService(provider),
        driver=FakeDriver(provider),
        currency=subject.currency,
        account_code=subject.account_code,
        tax_rate=rate,
    )
