"""The setup guide's "Verifying the Integration" flow, end to end, printing each step.

A member takes out a membership; the AMS creates the contact and the invoice, emails it (or
says why not), the member pays in the accounting system, the signed webhook arrives and is
verified, the invoice is synced, and the membership is marked paid. :func:`run_demo` runs it
against any :class:`DemoEnvironment`; ``ams-billing demo`` picks one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import attrs

from ams_billing.core.errors import BillingError
from ams_billing.core.hookspecs import hookimpl
from ams_billing.core.models import (
    AmountType,
    ChangeKind,
    Contact,
    InvoiceChange,
    InvoiceRequest,
    InvoiceStatus,
    LineItem,
)
from ams_billing.core.service import BillingService, WebhookResponse
from ams_billing.testing.harness import ProviderTestDriver

__all__ = [
    "DemoEnvironment",
    "DemoStep",
    "Member",
    "Membership",
    "MembershipLedger",
    "fake_environment",
    "run_demo",
]


@attrs.define
class Member:
    """A member of the association, as the AMS holds them."""

    account_reference: str
    name: str
    email: str


@attrs.define
class Membership:
    """A membership the member bought; ``paid`` turns true when its invoice is paid."""

    member: Member
    plan: str
    fee: Decimal
    invoice_id: str | None = None
    paid: bool = False


class MembershipLedger:
    """The AMS side of the webhook: a listener that marks memberships paid."""

    def __init__(self) -> None:
        self.by_invoice: dict[str, Membership] = {}
        self.changes: list[InvoiceChange] = []

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        """Mark the membership paid when its invoice is."""
        self.changes.append(change)
        membership = self.by_invoice.get(change.invoice.provider_id)
        if membership is not None and change.kind is ChangeKind.PAID:
            membership.paid = True


@attrs.define
class DemoEnvironment:
    """A provider to demonstrate: its service, a driver acting as the member, and a webhook path.

    ``exchange_webhooks`` makes the provider send what it has to the AMS's webhook endpoint and
    returns the endpoint's answers; ``preflight``, when given, checks the endpoint first (Xero's
    Intent-to-Receive) and returns whether it passed and a line to print.
    """

    service: BillingService
    driver: ProviderTestDriver
    exchange_webhooks: Callable[[], list[WebhookResponse]]
    description: str
    currency: str = "NZD"
    preflight: Callable[[], tuple[bool, str]] | None = None


def handled_in_process(
    service: BillingService, driver: ProviderTestDriver
) -> Callable[[], list[WebhookResponse]]:
    """Webhook exchange without HTTP: the driver's deliveries go straight to the service."""

    def exchange() -> list[WebhookResponse]:
        return [service.handle_webhook(d.body, d.headers) for d in driver.take_webhook_deliveries()]

    return exchange


@contextmanager
def fake_environment() -> Iterator[DemoEnvironment]:
    """The in-memory fake provider, with webhooks handed straight to the service."""
    from ams_billing.providers.fake import FakeProvider  # noqa: PLC0415
    from ams_billing.testing.fake import FakeDriver  # noqa: PLC0415

    # Configured as the setup guide configures Xero: amounts include tax.
    provider = FakeProvider(default_amount_type=AmountType.INCLUSIVE)
    service = BillingService(provider)
    driver = FakeDriver(provider)
    exchange = handled_in_process(service, driver)
    yield DemoEnvironment(service, driver, exchange, "the fake provider, in memory")


@attrs.frozen
class DemoStep:
    """One step of the flow as it happened (what ``ams-billing demo --json`` lists)."""

    step: str
    ok: bool
    detail: str


class _Steps:
    def __init__(
        self, say: Callable[[str], None], record: Callable[[DemoStep], None] | None
    ) -> None:
        self.say = say
        self.record = record
        self.failed = False
        self.started = time.perf_counter()

    def ok(self, step: str, detail: str) -> None:
        if self.record is not None:
            self.record(DemoStep(step, True, detail))
        self.say(f"  ok    {step}: {detail}")

    def fail(self, step: str, detail: str) -> None:
        self.failed = True
        if self.record is not None:
            self.record(DemoStep(step, False, detail))
        self.say(f"  FAIL  {step}: {detail}")


def run_demo(
    environment: DemoEnvironment,
    say: Callable[[str], None] = print,
    *,
    max_deliveries: int = 10,
    record: Callable[[DemoStep], None] | None = None,
) -> bool:
    """Run the verification flow; print each step; return whether every step held.

    ``record``, when given, also receives each step as a :class:`DemoStep`.
    """
    steps = _Steps(say, record)
    service, driver = environment.service, environment.driver
    ledger = MembershipLedger()
    service.add_listener(ledger)
    say(f"Verifying the integration against {environment.description}")
    if environment.preflight is not None:
        passed, detail = environment.preflight()
        (steps.ok if passed else steps.fail)("webhook endpoint", detail)
    member = Member("member-0001", "Ada Lovelace", "ada@example.org")
    membership = Membership(member, "Annual membership 2026", Decimal("120.00"))
    steps.ok("membership", f"{member.name} takes out {membership.plan} at {membership.fee}")
    try:
        contact = service.create_contact(
            Contact(member.account_reference, member.name, member.email),
            idempotency_key=f"contact:{member.account_reference}",
        )
        steps.ok("contact", f"{contact.name} <{contact.email}> is contact {contact.provider_id}")
        today = date.today()
        invoice = service.create_invoice(
            InvoiceRequest(
                contact=Contact(member.account_reference, member.name, member.email),
                line_items=[LineItem(membership.plan, Decimal(1), membership.fee)],
                currency=environment.currency,
                issue_date=today,
                due_date=today + timedelta(days=30),
                reference=f"MEMBERSHIP-{member.account_reference}",
                # No amount type named: the provider's configured one (XERO_AMOUNT_TYPE).
            ),
            idempotency_key=f"invoice:{member.account_reference}:2026",
        )
        membership.invoice_id = invoice.provider_id
        ledger.by_invoice[invoice.provider_id] = membership
        configured = service.invoice_defaults.amount_type
        # The fee is what the member pays, unless the configuration adds tax on top.
        fee = invoice.subtotal if configured is AmountType.EXCLUSIVE else invoice.total
        if (
            invoice.status is InvoiceStatus.OPEN
            and invoice.amount_type is configured
            and fee == membership.fee
        ):
            steps.ok(
                "invoice",
                f"{invoice.number} {invoice.status.value}, {invoice.currency} {invoice.total} "
                f"({invoice.amount_type.value.lower()}, tax {invoice.total_tax})",
            )
        else:
            steps.fail(
                "invoice",
                f"unexpected {invoice.status.value} for {invoice.total} "
                f"({invoice.amount_type.value.lower()}; configured: {configured.value.lower()})",
            )
        email = service.send_invoice(invoice)
        if email.sent:
            steps.ok("email", f"sent to {email.recipient}")
        else:
            reason = email.skipped_reason.value if email.skipped_reason else "unknown"
            steps.ok("email", f"not sent ({reason.replace('_', ' ')})")
        steps.ok("pay link", service.get_invoice_url(invoice.provider_id))
        driver.record_payment(invoice.provider_id, invoice.amount_due)
        steps.ok("payment", f"{invoice.currency} {invoice.amount_due} recorded in the provider")
        _deliver_until_paid(environment, membership, steps, max_deliveries)
    except BillingError as error:
        steps.fail("billing", f"{type(error).__name__}: {error}")
    elapsed = time.perf_counter() - steps.started
    if membership.paid and not steps.failed:
        say(f"All steps held in {elapsed:.2f} s: the membership is marked paid.")
        return True
    say(f"The flow did not complete in {elapsed:.2f} s.")
    return False


def _deliver_until_paid(
    environment: DemoEnvironment, membership: Membership, steps: _Steps, max_deliveries: int
) -> None:
    responses = environment.exchange_webhooks()[:max_deliveries]
    if not responses:
        steps.fail("webhook", "the provider sent no webhook delivery")
        return
    for response in responses:
        if response.status != 200 or response.delivery is None:
            steps.fail("webhook", f"the endpoint answered {response.status}")
            return
        steps.ok(
            "webhook",
            f"signature verified, {len(response.delivery.events)} event(s), answered 200",
        )
        for change in environment.service.process_webhook(response.delivery):
            steps.ok(
                "sync",
                f"invoice {change.invoice.number} is {change.invoice.status.value} "
                f"({change.kind.value.replace('_', ' ')})",
            )
    if membership.paid:
        steps.ok("membership", f"{membership.plan} for {membership.member.name} is marked paid")
    else:
        steps.fail("membership", "the membership is still unpaid")
