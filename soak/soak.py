"""Fault soak: thousands of billing operations under every fault, then an audit of the books.

Run it with ``nox -s soak`` or directly::

    python soak/soak.py --provider xero --operations 10000 --seed 7 8 9
    python soak/soak.py --provider fake --operations 10000 --seed 7

What it does (see RELIABILITY.md for the figures of the last full run):

1. **Faulted phase.** For member after member: create the contact, raise the invoice, email it,
   record a payment in the provider (the member paying), hand the webhook deliveries to the
   service (verify with ``handle_webhook``, then ``process_webhook``), and now and then run the
   safety-net sync (``sync_changed_since``). The Xero provider talks to the Xero emulator over
   its in-process transport on a virtual clock that the provider's own pacing and retry waits
   advance; the emulator injects, at random but seeded: 429 (minute and day), 500, 503
   "organisation offline", slow responses (some past the client's timeout, after the change was
   applied), connections cut before and after the change, and webhook deliveries duplicated,
   reordered and dropped. Every 50 members the AMS sits idle for 30 minutes of which its
   skewed clock sees 20, so tokens expire in Xero before the provider renews them
   (``401 TokenExpired`` mid-run). The fake provider gets the same plan through
   ``FakeProvider.fail_next`` (before and after the change is applied) and a hostile
   webhook courier.
2. **The caller** retries each failed operation with the same idempotency key a bounded number of
   times, waiting what a ``RateLimitedError`` asks (as an AMS job would), and records what it
   was told: done (with the id) or the typed error of the last attempt.
3. **Reconciliation.** Faults off; every operation that was reported failed is retried once with
   the same key (the AMS's next job run), the webhooks still queued are delivered and the sync
   runs from the start.
4. **Audit** of the provider's books against what the caller was told: no duplicate contact or
   invoice, no invoice nobody asked for, every "done" present exactly once with the id the
   caller got, every "failed" either absent or adopted by its retry (never a second copy), no
   invoice emailed twice, every payment seen as PAID by the listener, no invoice moving back
   from PAID in the listener's view, no untyped exception.

The process exits 1 when the audit finds anything, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from ams_billing import (
    AuthenticationError,
    BillingError,
    BillingService,
    ChangeKind,
    Contact,
    InvoiceChange,
    InvoiceRequest,
    InvoiceStatus,
    LineItem,
    ProviderUnavailableError,
    RateLimitedError,
    hookimpl,
)
from ams_billing.emulators.xero import (
    CallRecord,
    EmulatorClock,
    EmulatorConfig,
    FaultKind,
    FaultRule,
    RateLimits,
    WebhookBehaviour,
    XeroEmulator,
)
from ams_billing.emulators.xero.harness import EMULATOR_BASE_URL, emulator_settings
from ams_billing.providers.fake import FakeProvider
from ams_billing.providers.xero import XeroProvider
from ams_billing.testing.fake import FakeDriver
from ams_billing.testing.harness import SignedDelivery

__all__ = ["SoakReport", "duplicates", "emailed_twice", "main", "run_soak"]

CALLER_ATTEMPTS = 3
"""How many times the caller (an AMS job) tries one operation with one key before reporting."""

IDLE = 1800.0
"""Seconds of idleness at each skew step: the whole life of a Xero token."""

CLOCK_JUMP = 600.0
"""Seconds of that idleness the provider's clock does not see (skew), so it still believes its
token good when Xero has expired it: ``401 TokenExpired``, re-mint, retry, once per step."""

SLEEP_GRANULARITY = 0.001
"""The shortest virtual sleep, like a real timer's granularity. Without it the provider's pacer
can spin forever on the virtual clock: it asks to sleep ~1e-12 s, which adding to a clock at
~8,000 s does not move (see RELIABILITY.md, "Findings")."""

SKEW_EVERY = 50
"""Members between two skew steps."""

API = r"/api\.xro/2\.0/"

# (kind, probability per API call, extra rule fields)
XERO_FAULTS: tuple[tuple[FaultKind, float, dict[str, Any]], ...] = (
    (FaultKind.RATE_LIMIT_MINUTE, 0.02, {"retry_after": 5}),
    (FaultKind.RATE_LIMIT_DAY, 0.0005, {"retry_after": 3600}),
    (FaultKind.SERVER_ERROR, 0.02, {}),
    (FaultKind.ORGANISATION_OFFLINE, 0.015, {}),
    (FaultKind.SLOW, 0.02, {"delay": 2.0}),
    (FaultKind.SLOW, 0.01, {"delay": 45.0}),  # past the 10 s timeout: applied, then timed out
    (FaultKind.DROP_BEFORE, 0.02, {}),
    (FaultKind.DROP_AFTER, 0.025, {}),
)

OUTAGES, OUTAGE_EVERY, OUTAGE_CALLS = 60, 600, 12
"""An outage of 12 consecutive failing API calls after every 600 calls (up to 60 of them)."""

WEBHOOK_BEHAVIOUR = WebhookBehaviour(duplicate=0.2, drop=0.15, reorder=True, batch_size=5)

_APPLYING = frozenset({"create_contact", "create_invoice", "send_invoice"})
_TRANSIENT = (RateLimitedError, ProviderUnavailableError, AuthenticationError)


@dataclass
class Outcome:
    """What the caller was told about one operation."""

    operation: str
    key: str
    done: bool = False
    result_id: str | None = None
    error: str | None = None
    attempts: int = 0
    reconciled_id: str | None = None


@dataclass
class SoakReport:
    """The figures of one run, and what the audit found."""

    provider: str
    seed: int
    operations: int = 0
    operations_by_kind: Counter[str] = field(default_factory=Counter)
    faults_injected: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    typed_errors: Counter[str] = field(default_factory=Counter)
    reported_failed: Counter[str] = field(default_factory=Counter)
    failed_but_applied: int = 0
    untyped_errors: Counter[str] = field(default_factory=Counter)
    webhook_deliveries: Counter[str] = field(default_factory=Counter)
    tokens_minted: int = 0
    token_expired_401: int = 0
    calls: int = 0
    virtual_hours: float = 0.0
    duplicates: int = 0
    lost: int = 0
    orphans: int = 0
    emailed_twice: int = 0
    unpaid_in_listener: int = 0
    regressions_from_paid: int = 0
    problems: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the audit found nothing."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "provider": self.provider,
            "seed": self.seed,
            "operations": self.operations,
            "operations_by_kind": dict(sorted(self.operations_by_kind.items())),
            "faults_injected": dict(sorted(self.faults_injected.items())),
            "retries": self.retries,
            "typed_errors": dict(sorted(self.typed_errors.items())),
            "reported_failed": dict(sorted(self.reported_failed.items())),
            "failed_but_applied": self.failed_but_applied,
            "untyped_errors": dict(self.untyped_errors),
            "webhook_deliveries": dict(sorted(self.webhook_deliveries.items())),
            "tokens_minted": self.tokens_minted,
            "token_expired_401": self.token_expired_401,
            "calls": self.calls,
            "virtual_hours": round(self.virtual_hours, 1),
            "duplicates": self.duplicates,
            "lost": self.lost,
            "orphans": self.orphans,
            "emailed_twice": self.emailed_twice,
            "unpaid_in_listener": self.unpaid_in_listener,
            "regressions_from_paid": self.regressions_from_paid,
            "problems": self.problems[:50],
            "wall_seconds": round(self.wall_seconds, 1),
        }


class Listener:
    """The AMS's view: the last status of each invoice, and every move back from PAID."""

    def __init__(self) -> None:
        self.status: dict[str, InvoiceStatus] = {}
        self.regressions: list[str] = []

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        """Remember the status; a PAID invoice must never be reported as anything else."""
        invoice_id = change.invoice.provider_id
        if self.status.get(invoice_id) is InvoiceStatus.PAID and change.kind is not ChangeKind.PAID:
            self.regressions.append(f"{invoice_id}: PAID -> {change.invoice.status.value}")
        self.status[invoice_id] = change.invoice.status


@dataclass
class Member:
    """One member billed in the soak, and what the caller was told about each step."""

    index: int
    contact: Contact
    request: InvoiceRequest
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    invoice_id: str | None = None
    total: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    second_instalment: bool = False


class Rig:
    """What differs between the providers: the service, time, faults, webhooks and books."""

    name = ""
    service: BillingService
    listener: Listener

    def now(self) -> datetime:
        """The provider's current time (for sync watermarks)."""
        raise NotImplementedError

    def wait(self, seconds: float) -> None:
        """Let time pass (virtually where possible) before a caller retries."""

    def arm_faults(self, rng: random.Random, operation: str) -> None:
        """Inject faults for the next operation (the fake; the emulator's rules are standing)."""

    def skew(self) -> None:
        """Let the provider's clock fall behind the accounting system's (where it has one)."""

    def faults_off(self) -> None:
        """Stop injecting faults."""
        raise NotImplementedError

    def pay(self, invoice_id: str, amount: Decimal) -> None:
        """Record a payment in the provider, as the member paying."""
        raise NotImplementedError

    def deliveries(self, force: bool = False) -> list[SignedDelivery]:
        """The webhook deliveries that reached the endpoint since the last call."""
        raise NotImplementedError

    def books(self) -> tuple[list[tuple[str, str]], list[tuple[str, str, str, bool]]]:
        """Contacts as (id, account reference); invoices as (id, reference, status, sent)."""
        raise NotImplementedError

    def finish(self, report: SoakReport) -> None:
        """Fill in the provider's own counts and audit what only it can see."""

    def close(self) -> None:
        """Release resources."""


class XeroRig(Rig):
    """The Xero provider against the emulator, in-process, on a virtual clock."""

    name = "xero"

    def __init__(self, seed: int) -> None:
        limits = RateLimits(per_day=None)  # day-limit 429s are injected instead
        config = EmulatorConfig(
            seed=seed,
            rate_limits=limits,
            webhooks=WEBHOOK_BEHAVIOUR,
            email_daily_limit=10**9,
        )
        self.emulator = XeroEmulator(config, clock=EmulatorClock.virtual())
        clock = self.emulator.clock
        self.lag = 0.0
        self.provider = XeroProvider(
            emulator_settings(self.emulator, EMULATOR_BASE_URL),
            transport=self.emulator.transport(),
            clock=lambda: clock.elapsed() - self.lag,
            sleep=lambda seconds: clock.sleep(max(seconds, SLEEP_GRANULARITY)),
        )
        # Reproducible runs: the retry and wake-up jitter draw from seeded generators.
        self.provider.http._random = random.Random(seed ^ 0x1177)  # noqa: S311 - reproducible jitter
        self.provider.http.pacer._random = random.Random(seed ^ 0x9ACE)  # noqa: S311 - reproducible jitter
        self.listener = Listener()
        self.service = BillingService(self.provider, listeners=[self.listener])
        self._captured: list[SignedDelivery] = []
        self.verdicts: Counter[int] = Counter()

        def endpoint(request: httpx.Request) -> httpx.Response:
            delivery = SignedDelivery(request.read(), dict(request.headers.items()))
            verdict = self.service.handle_webhook(delivery.body, delivery.headers)
            self.verdicts[verdict.status] += 1
            if verdict.status == 200:
                self._captured.append(delivery)
            return httpx.Response(verdict.status)

        self.emulator.set_webhook_target(endpoint)
        # Outages: runs of consecutive failing calls, long enough to exhaust the provider's
        # retries and some of the caller's (500s, and cuts after the change was applied).
        for index in range(OUTAGES):
            kind = FaultKind.SERVER_ERROR if index % 2 else FaultKind.DROP_AFTER
            self.emulator.add_fault(
                FaultRule(kind=kind, path=API, count=OUTAGE_CALLS, skip=OUTAGE_EVERY * (index + 1))
            )
        # One day-limit 429 early on, so that even a short run meets one.
        self.emulator.add_fault(
            FaultRule(kind=FaultKind.RATE_LIMIT_DAY, path=API, count=1, skip=250, retry_after=3600)
        )
        for kind, probability, extra in XERO_FAULTS:
            self.emulator.add_fault(
                FaultRule(kind=kind, path=API, probability=probability, **extra)
            )

    def now(self) -> datetime:
        """The emulator's time (what ``UpdatedDateUTC`` is stamped with)."""
        return self.emulator.clock.now()

    def wait(self, seconds: float) -> None:
        """Advance the virtual clock."""
        self.emulator.clock.advance(seconds)

    def skew(self) -> None:
        """Thirty idle minutes in Xero, twenty by the provider's (skewed) clock."""
        self.emulator.clock.advance(IDLE)
        self.lag += CLOCK_JUMP

    def faults_off(self) -> None:
        """Remove the standing fault rules."""
        self.emulator.clear_faults()

    def pay(self, invoice_id: str, amount: Decimal) -> None:
        """Record the payment in the emulator (queues the INVOICE UPDATE webhook)."""
        self.emulator.record_payment(invoice_id, amount)

    def deliveries(self, force: bool = False) -> list[SignedDelivery]:
        """Have the emulator deliver (duplicating, reordering, dropping) and take them."""
        self.emulator.deliver_webhooks(force=force)
        taken, self._captured = self._captured, []
        return taken

    def books(self) -> tuple[list[tuple[str, str]], list[tuple[str, str, str, bool]]]:
        """The emulator's books."""
        snapshot = self.emulator.books()
        contacts = [(c["ContactID"], c.get("ContactNumber") or "") for c in snapshot.contacts]
        invoices = [
            (i["InvoiceID"], i.get("Reference") or "", i["Status"], bool(i.get("SentToContact")))
            for i in snapshot.invoices
        ]
        return contacts, invoices

    def finish(self, report: SoakReport) -> None:
        """Count calls, faults, tokens and emails from the emulator's call log."""
        calls = self.emulator.calls
        report.calls = len(calls)
        report.tokens_minted = sum(1 for c in calls if c.endpoint == "POST /connect/token")
        report.token_expired_401 = sum(
            1 for c in calls if c.status == 401 and c.endpoint != "POST /connect/token"
        )
        report.faults_injected.update(c.fault for c in calls if c.fault)
        history = self.emulator.webhooks.history
        report.webhook_deliveries.update(
            {
                "sent": sum(1 for d in history if not d.dropped and not d.duplicate),
                "duplicated": sum(1 for d in history if d.duplicate),
                "dropped": sum(1 for d in history if d.dropped),
                "answered_401": self.verdicts[401],
            }
        )
        report.faults_injected["webhook_duplicated"] = report.webhook_deliveries["duplicated"]
        report.faults_injected["webhook_dropped"] = report.webhook_deliveries["dropped"]
        report.faults_injected["webhook_reordered_batches"] = report.webhook_deliveries["sent"]
        report.faults_injected["token_expired_401"] = report.token_expired_401
        report.virtual_hours = self.emulator.clock.elapsed() / 3600
        twice = emailed_twice(calls)
        report.emailed_twice = len(twice)
        report.problems += [f"invoice {invoice} emailed more than once" for invoice in twice]

    def close(self) -> None:
        """Close the provider's client."""
        self.provider.close()


class FakeRig(Rig):
    """The fake provider with ``fail_next`` faults and a hostile webhook courier."""

    name = "fake"
    # (error, after_apply, weight)
    FAULTS: tuple[tuple[type[BillingError], bool, float], ...] = (
        (ProviderUnavailableError, False, 0.05),
        (ProviderUnavailableError, True, 0.05),
        (RateLimitedError, False, 0.03),
    )

    def __init__(self, seed: int) -> None:
        self.fake = FakeProvider(webhook_key=f"soak-{seed}")
        self.driver = FakeDriver(self.fake)
        self.listener = Listener()
        self.service = BillingService(self.fake, listeners=[self.listener])
        self._rng = random.Random(seed ^ 0xFA4E)  # noqa: S311 - reproducible chaos
        self._armed = True
        self.injected: Counter[str] = Counter()
        self.courier: Counter[str] = Counter()

    def now(self) -> datetime:
        """Wall-clock time (the fake stamps invoices with it)."""
        from datetime import UTC  # noqa: PLC0415

        return datetime.now(UTC)

    def arm_faults(self, rng: random.Random, operation: str) -> None:
        """Maybe make this operation fail before or after its change is applied."""
        if not self._armed:
            return
        for error, after_apply, weight in self.FAULTS:
            if after_apply and operation not in _APPLYING:
                continue
            if self._rng.random() < weight:
                self.driver.fail_next(1, error, operations=[operation], after_apply=after_apply)
                label = f"{error.__name__}{' after apply' if after_apply else ''}"
                self.injected[label] += 1
                return

    def faults_off(self) -> None:
        """Drop pending faults and stop arming new ones."""
        self._armed = False
        self.driver.clear_faults()

    def pay(self, invoice_id: str, amount: Decimal) -> None:
        """Record the payment in the fake."""
        self.driver.record_payment(invoice_id, amount)

    def deliveries(self, force: bool = False) -> list[SignedDelivery]:
        """The fake's deliveries, split per event, then duplicated, reordered and dropped."""
        out: list[SignedDelivery] = []
        for delivery in self.driver.take_webhook_deliveries():
            out.append(delivery)
        if not self._armed:
            return out
        hostile: list[SignedDelivery] = []
        for delivery in out:
            if self._rng.random() < WEBHOOK_BEHAVIOUR.drop:
                self.courier["dropped"] += 1
                continue
            hostile.append(delivery)
            self.courier["sent"] += 1
            if self._rng.random() < WEBHOOK_BEHAVIOUR.duplicate:
                hostile.append(delivery)
                self.courier["duplicated"] += 1
        self._rng.shuffle(hostile)
        return hostile

    def books(self) -> tuple[list[tuple[str, str]], list[tuple[str, str, str, bool]]]:
        """The fake's contacts and invoices (emails from its sent list)."""
        sent = {email.invoice_id for email in self.fake.emails_sent}
        contacts = [(c.provider_id, c.account_reference) for c in self.fake.contacts]
        invoices = [
            (i.provider_id, i.reference or "", i.status.value, i.provider_id in sent)
            for i in self.fake.invoices
        ]
        return contacts, invoices

    def finish(self, report: SoakReport) -> None:
        """Fault counts, and emails sent twice."""
        report.faults_injected.update(self.injected)
        report.faults_injected["webhook_duplicated"] = self.courier["duplicated"]
        report.faults_injected["webhook_dropped"] = self.courier["dropped"]
        report.webhook_deliveries.update(self.courier)
        emails = Counter(email.invoice_id for email in self.fake.emails_sent)
        twice = [invoice for invoice, count in emails.items() if count > 1]
        report.emailed_twice = len(twice)
        report.problems += [f"invoice {invoice} emailed more than once" for invoice in twice]


class Soak:
    """The caller: runs the operations, retries them, and audits the books afterwards."""

    def __init__(self, rig: Rig, seed: int, operations: int) -> None:
        self.rig = rig
        self.seed = seed
        self.target = operations
        self.rng = random.Random(seed)  # noqa: S311 - reproducible workload
        self.report = SoakReport(provider=rig.name, seed=seed)
        self.members: list[Member] = []
        self.paid_in_full: set[str] = set()
        self.started_at = rig.now()
        self.watermark = self.started_at

    # -- the caller's retry loop ---------------------------------------------------------

    def call(self, operation: str, key: str, action: Callable[[], Any]) -> tuple[Outcome, Any]:
        """Try ``action`` up to CALLER_ATTEMPTS times; record what the caller was told."""
        outcome = Outcome(operation, key)
        result: Any = None
        for attempt in range(1, CALLER_ATTEMPTS + 1):
            outcome.attempts = attempt
            if attempt > 1:
                self.report.retries += 1
            self.rig.arm_faults(self.rng, operation)
            try:
                result = action()
            except BillingError as error:
                self.report.typed_errors[type(error).__name__] += 1
                outcome.error = type(error).__name__
                if not isinstance(error, _TRANSIENT) or attempt == CALLER_ATTEMPTS:
                    break
                wait = getattr(error, "retry_after", None)
                self.rig.wait(wait if wait is not None else 30.0)
                continue
            except Exception as error:  # anything untyped is a finding
                self.report.untyped_errors[type(error).__name__] += 1
                self.report.problems.append(f"{operation} {key}: untyped {error!r}")
                outcome.error = type(error).__name__
                break
            outcome.done, outcome.error = True, None
            break
        self.report.operations += 1
        self.report.operations_by_kind[operation] += 1
        if not outcome.done:
            self.report.reported_failed[f"{operation}: {outcome.error}"] += 1
        return outcome, result

    # -- the workload ----------------------------------------------------------------------

    def new_member(self) -> Member:
        index = len(self.members)
        reference = f"soak-{self.seed}-{index:06d}"
        contact = Contact(reference, f"Member {self.seed}-{index}", f"m{index}@example.org")
        amount = Decimal(self.rng.choice(["80.00", "120.00", "45.50", "19.99"]))
        request = InvoiceRequest(
            contact=contact,
            line_items=[LineItem("Annual membership", Decimal(1), amount)],
            currency="NZD",
            issue_date=date(2026, 1, 15),
            due_date=date(2026, 2, 14),
            reference=f"SOAK-{self.seed}-{index:06d}",
        )
        member = Member(index, contact, request)
        self.members.append(member)
        return member

    def bill(self, member: Member) -> None:
        service = self.rig.service
        key = member.contact.account_reference
        outcome, record = self.call(
            "create_contact",
            f"contact:{key}",
            lambda: service.create_contact(member.contact, idempotency_key=f"contact:{key}"),
        )
        if outcome.done:
            outcome.result_id = record.provider_id
        member.outcomes["create_contact"] = outcome
        outcome, invoice = self.call(
            "create_invoice",
            f"invoice:{key}",
            lambda: service.create_invoice(member.request, idempotency_key=f"invoice:{key}"),
        )
        member.outcomes["create_invoice"] = outcome
        if not outcome.done:
            return
        outcome.result_id = member.invoice_id = invoice.provider_id
        member.total = invoice.total
        sent, _ = self.call(
            "send_invoice",
            f"email:{key}",
            lambda: service.send_invoice(invoice, idempotency_key=f"email:{key}"),
        )
        member.outcomes["send_invoice"] = sent
        roll = self.rng.random()
        if roll < 0.7:
            self.pay(member, member.total)
        elif roll < 0.85:
            self.pay(member, (member.total / 2).quantize(Decimal("0.01")))
            member.second_instalment = True

    def pay(self, member: Member, amount: Decimal) -> None:
        assert member.invoice_id is not None
        self.rig.pay(member.invoice_id, amount)
        member.paid += amount
        if member.paid == member.total:
            self.paid_in_full.add(member.invoice_id)
        self.report.operations += 1
        self.report.operations_by_kind["record_payment"] += 1

    def process_webhooks(self, force: bool = False) -> None:
        for delivery in self.rig.deliveries(force=force):
            self.report.operations += 1
            self.report.operations_by_kind["process_webhook"] += 1
            response = self.rig.service.handle_webhook(delivery.body, delivery.headers)
            if response.status != 200 or response.delivery is None:
                self.report.problems.append(f"a genuine delivery was answered {response.status}")
                continue
            try:
                self.rig.service.process_webhook(response.delivery)
            except BillingError as error:
                # As the BackgroundProcessor does: log, and leave it to the safety net.
                self.report.typed_errors[type(error).__name__] += 1
                self.report.reported_failed[f"process_webhook: {type(error).__name__}"] += 1
            except Exception as error:
                self.report.untyped_errors[type(error).__name__] += 1
                self.report.problems.append(f"process_webhook: untyped {error!r}")

    def sync(self) -> bool:
        since = self.watermark
        started = self.rig.now() - timedelta(seconds=1)
        outcome, _ = self.call(
            "sync_changed_since", "sync", lambda: self.rig.service.sync_changed_since(since)
        )
        if outcome.done:
            self.watermark = min(started, self.rig.now())
        return outcome.done

    def run(self) -> SoakReport:
        wall = time.perf_counter()
        pending_instalments: list[Member] = []
        while self.report.operations < self.target:
            member = self.new_member()
            self.bill(member)
            if member.second_instalment:
                pending_instalments.append(member)
            if member.index % 7 == 6:
                for waiting in pending_instalments:
                    self.pay(waiting, waiting.total - waiting.paid)
                pending_instalments.clear()
                self.process_webhooks()
            if member.index % 40 == 39:
                self.sync()
            if member.index % SKEW_EVERY == SKEW_EVERY - 1:
                self.rig.skew()
        for waiting in pending_instalments:
            self.pay(waiting, waiting.total - waiting.paid)
        self.process_webhooks()
        before = self.rig.books()
        self.rig.faults_off()
        self.reconcile()
        for _ in range(3):
            self.process_webhooks(force=True)
        self.watermark = self.started_at
        if not self.sync():
            self.report.problems.append("the final sync failed with faults off")
        self.report.wall_seconds = time.perf_counter() - wall
        self.audit(before)
        self.rig.finish(self.report)
        self.report.wall_seconds = time.perf_counter() - wall
        return self.report

    def reconcile(self) -> None:
        """Faults off: retry every operation reported failed, with its same key, once."""
        service = self.rig.service
        for member in self.members:
            for name, outcome in list(member.outcomes.items()):
                if outcome.done:
                    continue
                try:
                    if name == "create_contact":
                        outcome.reconciled_id = service.create_contact(
                            member.contact, idempotency_key=outcome.key
                        ).provider_id
                    elif name == "create_invoice":
                        invoice = service.create_invoice(
                            member.request, idempotency_key=outcome.key
                        )
                        outcome.reconciled_id = member.invoice_id = invoice.provider_id
                        member.total = invoice.total
                    elif name == "send_invoice" and member.invoice_id is not None:
                        service.send_invoice(member.invoice_id, idempotency_key=outcome.key)
                        outcome.reconciled_id = member.invoice_id
                except Exception as error:
                    self.report.problems.append(f"reconciling {outcome.key} failed: {error!r}")

    # -- the audit -------------------------------------------------------------------------

    def audit(self, before: tuple[list[tuple[str, str]], list[tuple[str, str, str, bool]]]) -> None:
        report = self.report
        contacts, invoices = self.rig.books()
        contact_ids = dict(contacts)
        invoice_rows = {row[0]: row for row in invoices}
        duplicated = duplicates(contacts, invoices)
        report.duplicates = len(duplicated)
        report.problems += duplicated
        before_contacts = {number for _, number in before[0]}
        before_invoices = {reference for _, reference, _, _ in before[1]}
        expected_invoices: set[str] = set()
        for member in self.members:
            contact = member.outcomes["create_contact"]
            self._check(contact, contact_ids.get(contact.result_id or contact.reconciled_id or ""),
                        member.contact.account_reference, before_contacts)  # fmt: skip
            invoice = member.outcomes.get("create_invoice")
            if invoice is None:
                continue
            final_id = invoice.result_id or invoice.reconciled_id
            row = invoice_rows.get(final_id or "")
            self._check(invoice, row[1] if row else None, member.request.reference or "",
                        before_invoices)  # fmt: skip
            if final_id:
                expected_invoices.add(final_id)
            send = member.outcomes.get("send_invoice")
            if send is not None and (send.done or send.reconciled_id) and not (row and row[3]):
                report.lost += 1
                report.problems.append(f"{send.key} reported done but the invoice is not sent")
        orphans = [row for row in invoices if row[0] not in expected_invoices]
        report.orphans = len(orphans)
        report.problems += [f"invoice {row[1]} ({row[0]}) nobody was told of" for row in orphans]
        listener = self.rig.listener
        unpaid = [i for i in self.paid_in_full if listener.status.get(i) is not InvoiceStatus.PAID]
        report.unpaid_in_listener = len(unpaid)
        report.problems += [f"invoice {i} paid but not PAID to the listener" for i in unpaid]
        report.regressions_from_paid = len(listener.regressions)
        report.problems += listener.regressions

    def _check(self, outcome: Outcome, found: str | None, natural: str, before: set[str]) -> None:
        """``found`` is the natural key of the book entry with the id the caller holds."""
        report = self.report
        if outcome.done:
            if found != natural:
                report.lost += 1
                report.problems.append(f"{outcome.key} reported done but not in the books")
            return
        if natural in before:
            # Reported failed, yet applied: only acceptable because the retry (same key)
            # adopted it instead of creating a second one (duplicates are counted above).
            report.failed_but_applied += 1
        if outcome.reconciled_id is None or found != natural:
            report.lost += 1
            report.problems.append(f"{outcome.key} failed and its retry did not recover it")


def duplicates(
    contacts: Iterable[tuple[str, str]], invoices: Iterable[tuple[str, str, str, bool]]
) -> list[str]:
    """Two live contacts with one account reference, or two live invoices with one reference.

    ``contacts`` as (id, account reference), ``invoices`` as (id, reference, status, sent), as
    :meth:`Rig.books` gives them; one line per duplicated reference.
    """
    by_number = Counter(number for _, number in contacts)
    dead = ("VOIDED", "VOID", "DELETED")  # Xero's words, and the core's
    live = Counter(ref for _, ref, status, _ in invoices if status not in dead)
    return [f"duplicate contact {n}" for n, count in by_number.items() if count > 1] + [
        f"duplicate invoice {r}" for r, count in live.items() if count > 1
    ]


def emailed_twice(calls: Iterable[CallRecord]) -> list[str]:
    """The invoices the emulator's call log shows emailed more than once (lower-case ids).

    An email is applied when Xero answered 204 or cut the connection after applying it; a
    replay (``Idempotency-Key``) sends nothing.
    """
    sends: Counter[str] = Counter()
    for call in calls:
        if not call.endpoint.endswith("/Email") or call.replayed:
            continue
        if call.status == 204 or (call.dropped and call.fault == FaultKind.DROP_AFTER.value):
            sends[call.path.rstrip("/").split("/")[-2].lower()] += 1
    return [invoice for invoice, count in sends.items() if count > 1]


def run_soak(provider: str, operations: int, seed: int) -> SoakReport:
    """Run one soak and return its report."""
    rig: Rig = XeroRig(seed) if provider == "xero" else FakeRig(seed)
    try:
        return Soak(rig, seed, operations).run()
    finally:
        rig.close()


def markdown(reports: Iterable[SoakReport], command: str) -> str:
    """The figures as a Markdown table, for RELIABILITY.md."""
    reports = list(reports)
    rows = [
        ("operations", lambda r: str(r.operations)),
        ("by kind", lambda r: _pairs(r.operations_by_kind)),
        ("faults injected", lambda r: _pairs(r.faults_injected)),
        ("caller retries", lambda r: str(r.retries)),
        ("typed errors (all attempts)", lambda r: _pairs(r.typed_errors)),
        ("reported failed after retries", lambda r: _pairs(r.reported_failed) or "0"),
        ("reported failed but applied (adopted by the retry)",
         lambda r: str(r.failed_but_applied)),
        ("untyped exceptions", lambda r: str(sum(r.untyped_errors.values()))),
        ("API calls / tokens minted / 401 TokenExpired",
         lambda r: f"{r.calls} / {r.tokens_minted} / {r.token_expired_401}"),
        ("virtual time (h)", lambda r: f"{r.virtual_hours:.1f}"),
        ("duplicates", lambda r: str(r.duplicates)),
        ("lost", lambda r: str(r.lost)),
        ("orphans", lambda r: str(r.orphans)),
        ("emailed twice", lambda r: str(r.emailed_twice)),
        ("paid but not PAID to listener", lambda r: str(r.unpaid_in_listener)),
        ("moved back from PAID", lambda r: str(r.regressions_from_paid)),
        ("wall time (s)", lambda r: f"{r.wall_seconds:.1f}"),
    ]  # fmt: skip
    header = " | ".join(f"{r.provider} (seed {r.seed})" for r in reports)
    lines = [f"Command: `{command}`", "", f"| | {header} |"]
    lines.append("|---|" + "---|" * len(reports))
    for label, get in rows:
        lines.append(f"| {label} | " + " | ".join(get(r) for r in reports) + " |")
    return "\n".join(lines) + "\n"


def _pairs(counter: Counter[str]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items()) if v)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the soak for each provider asked for and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", choices=["xero", "fake", "both"], default="both")
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, nargs="+", default=[7], help="one run per seed")
    parser.add_argument("--json", metavar="PATH", help="also write the reports as JSON here")
    args = parser.parse_args(argv)
    providers = ["xero", "fake"] if args.provider == "both" else [args.provider]
    reports = []
    for seed in args.seed:
        for name in providers:
            report = run_soak(name, args.operations, seed)
            reports.append(report)
            print(json.dumps(report.as_dict(), indent=2), flush=True)
    command = "python soak/soak.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(markdown(reports, command.strip()))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([r.as_dict() for r in reports], handle, indent=2)
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
