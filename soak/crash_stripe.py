"""The crash soak on Stripe: the same supervisor, with the Stripe emulator behind it.

``python soak/crash_soak.py --provider stripe --store sqlite postgres`` runs it. What differs
from Xero (everything else is :class:`crash_soak.Supervisor`'s):

- the emulator is :class:`~ams_billing.emulators.stripe.StripeEngine` served by
  :class:`~ams_billing.emulators.stripe.StripeServer`, on the same real clock sped up
  ``--scale`` times, with Stripe's test-mode limits on and faults: 429 ``rate_limit`` and
  ``lock_timeout``, 500s (some with ``Stripe-Should-Retry``), 409 ``idempotency_key_in_use``,
  answers slower than the client's timeout, connections cut before and after the change;
- after each worker kill the clock jumps **past Stripe's 24-hour ``Idempotency-Key`` window**
  (24 h 10 min), so Stripe no longer replays any key sent before: only the durable ledger
  (and the provider's look-up of a pending key) stands between a retry and a second invoice;
- the workers run ``StripeProvider`` (``AMS_BILLING_SERVICE_CLASS=stripe``), with dates
  relative to today (Stripe refuses a past due date);
- the webhook servers are one endpoint registered for every event, its URL moved to the
  server whose turn it is before each round of deliveries; one event per delivery, signed
  with the endpoint's ``whsec_`` secret;
- a member pays out of band (``pay_invoice``: the whole amount; Stripe has no partial
  out-of-band payment), 85 % of them;
- the audit reads the emulator's state: customers by ``metadata[ams_account]``, invoices by
  ``metadata[ams_reference]``; an invoice is sent once ``POST /v1/invoices/{id}/send`` was
  applied (answered 200, or cut after it applied), and emailed twice when that happened more
  than once (replays excluded).
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from decimal import Decimal
from typing import Any

from crash_soak import WEBHOOK_PATH, Supervisor

from ams_billing.emulators.stripe import (
    EmulatorClock,
    FaultKind,
    FaultRule,
    StripeEmulatorConfig,
    StripeEngine,
    StripeServer,
)
from ams_billing.emulators.xero.messages import EmulatorRequest, EmulatorResponse
from ams_billing.providers.stripe.keys import stripe_key

__all__ = ["StripeSupervisor"]

STRIPE_KEY_WINDOW_JUMP = 24 * 3600.0 + 600.0
"""Emulated seconds the clock jumps after a worker kill: past Stripe's 24 h key window."""

API = r"^/v1/"

STRIPE_FAULTS: tuple[tuple[FaultKind, float, dict[str, Any]], ...] = (
    (FaultKind.RATE_LIMIT, 0.02, {}),
    (FaultKind.LOCK_TIMEOUT, 0.01, {}),
    (FaultKind.SERVER_ERROR, 0.015, {"should_retry": True}),
    (FaultKind.SERVER_ERROR, 0.005, {"stored": True}),
    (FaultKind.CONFLICT, 0.005, {}),
    (FaultKind.SLOW, 0.01, {"delay": 5.0, "real_delay": True}),  # past the 3 s timeout
    (FaultKind.DROP_BEFORE, 0.02, {}),
    (FaultKind.DROP_AFTER, 0.025, {}),
)
"""Faults per API call while the workers bill (the final phase has none)."""

STRIPE_HOLD_TARGETS = (
    ("create_invoice", "POST", r"^/v1/invoices$"),
    ("create_contact", "POST", r"^/v1/customers$"),
    ("finalize_invoice", "POST", r"^/v1/invoices/[^/]+/finalize$"),
    ("send_invoice", "POST", r"^/v1/invoices/[^/]+/send$"),
)
"""What the n-th held-response kill holds (cycling): a draft invoice first."""

_SEND = re.compile(r"^/v1/invoices/([^/]+)/send$")
_INVOICE_PATH = re.compile(r"^/v1/invoices/([^/]+)/")
_MEMBER = re.compile(r"crash-(\d+)-(\d{5})", re.IGNORECASE)


class CountingEngine(StripeEngine):
    """The Stripe engine, counting the calls it is handling (held ones included)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._busy = 0
        self._busy_lock = threading.Lock()

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        """Handle ``request``, counted while it is inside."""
        if not request.path.startswith("/v1/"):
            return super().handle(request)
        with self._busy_lock:
            self._busy += 1
        try:
            return super().handle(request)
        finally:
            with self._busy_lock:
                self._busy -= 1

    def in_flight(self) -> int:
        """API calls being handled right now."""
        with self._busy_lock:
            return self._busy


class StripeSupervisor(Supervisor):
    """:class:`crash_soak.Supervisor` on the Stripe emulator (see the module docstring)."""

    key_window_jump = STRIPE_KEY_WINDOW_JUMP
    hold_targets = STRIPE_HOLD_TARGETS
    provider = "stripe"
    pays_in_instalments = False

    def make_emulator(self) -> None:
        """The engine (Stripe's test-mode limits on) and its loopback server; one endpoint."""
        config = StripeEmulatorConfig(seed=self.config.seed)
        self.emulator = CountingEngine(config, clock=EmulatorClock.real(self.config.scale))
        self.server = StripeServer(self.emulator)
        self.endpoint_id, self.endpoint_secret = self.emulator.create_webhook_endpoint(
            "http://127.0.0.1:9/unset", ("*",)
        )

    def provider_env(self) -> dict[str, str]:
        """The Stripe provider's variables, pointing at the emulator."""
        return {
            "AMS_BILLING_SERVICE_CLASS": "stripe",
            "STRIPE_SECRET_KEY": self.emulator.config.secret_key,
            "STRIPE_WEBHOOK_SECRET": self.endpoint_secret,
            "STRIPE_API_BASE": self.server.base_url,
            "STRIPE_TIMEOUT": "3",
        }

    def worker_args(self) -> list[str]:
        """Stripe's members are billed with dates relative to today."""
        return ["--relative-dates"]

    def install_faults(self) -> None:
        """Stripe's failures on every API call (see :data:`STRIPE_FAULTS`)."""
        for kind, probability, extra in STRIPE_FAULTS:
            self.emulator.add_fault(
                FaultRule(kind=kind, path=API, probability=probability, **extra)
            )

    def emulated_now(self) -> datetime:
        """The emulator's clock."""
        return self.emulator.clock.now()

    def advance(self, seconds: float) -> None:
        """Move Stripe's clock on (its key window with it)."""
        self.emulator.advance_clock(seconds)

    def stems_of(self, plan_key: str) -> dict[str, str]:
        """The stems of the keys the Stripe provider sends for a member's steps.

        Not send's: its key names the invoice.
        """
        invoice = f"invoice:{plan_key}"
        return {
            stripe_key("customer", plan_key): "customer",
            stripe_key("invoice", invoice, "create"): "invoice (draft)",
            stripe_key("invoice", invoice, "line:0"): "invoice (its line)",
            stripe_key("invoice", invoice, "finalize"): "invoice (finalize)",
        }

    def member_of(self, path: str, body: bytes) -> int | None:
        """The member a held call is for: from the form body, or the invoice the path names."""
        found = _MEMBER.search(body.decode("utf-8", "replace"))
        named = _INVOICE_PATH.match(path)
        if found is None and named is not None:
            invoice = self.books()[1].get(named.group(1))
            if invoice is not None:
                found = _MEMBER.search(invoice["reference"])
        return int(found.group(2)) if found else None

    def books(self) -> tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]:
        """Customers as (id, ``metadata[ams_account]``); invoices in the core's words."""
        state = self.emulator.state()
        contacts = [
            (c["id"], (c.get("metadata") or {}).get("ams_account") or "")
            for c in state["customers"]
        ]
        sent = self.sent_counts()
        invoices = {}
        for i in state["invoices"]:
            status = "DRAFT" if i["status"] == "draft" else str(i["status"]).upper()
            invoices[i["id"]] = {
                "id": i["id"],
                "reference": (i.get("metadata") or {}).get("ams_reference") or "",
                "status": status,
                "raw_status": i["status"],
                "sent": sent.get(i["id"], 0) > 0,
                "amount_paid": Decimal(int(i.get("amount_paid") or 0)) / 100,
                "total": Decimal(int(i.get("total") or 0)) / 100,
            }
        return contacts, invoices

    def sent_counts(self) -> dict[str, int]:
        """How often each invoice's ``/send`` was applied (replays left out)."""
        counts: dict[str, int] = {}
        for call in self.emulator.calls:
            found = _SEND.match(call.path)
            if found is None or call.replayed:
                continue
            applied = call.status == 200 or (call.dropped and call.fault == "drop_after")
            if applied:
                counts[found.group(1)] = counts.get(found.group(1), 0) + 1
        return counts

    def emailed_twice(self) -> list[str]:
        """Invoices (lower-case ids) whose ``/send`` was applied more than once."""
        return [i.lower() for i, count in self.sent_counts().items() if count > 1]

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        """Pay out of band, as a Dashboard user would (``invoice.paid`` is queued)."""
        try:
            self.emulator.pay_invoice(invoice_id)
        except Exception as error:
            self.report.problems.append(f"paying {invoice_id} failed: {error}")
            return
        self.report.operations["record_payment"] += 1
        self.paid[invoice_id] = self.totals[invoice_id]
        self.paid_in_full.add(invoice_id)
        del amount

    def webhooks_pending(self) -> int:
        """(event, endpoint) deliveries still waiting."""
        return int(self.emulator.pending_deliveries())

    def deliver(self, *, force: bool) -> tuple[int, bool]:
        """Move the endpoint to the next webhook server, deliver what waits to it."""
        del force
        index = self.next_target % len(self.servers)
        self.next_target += 1
        port = self.ports[self.servers[index].name]
        self.move_endpoint(f"http://127.0.0.1:{port}{WEBHOOK_PATH}")
        attempts = self.emulator.deliver_webhooks()
        return index, any(a.ok for a in attempts)

    def move_endpoint(self, url: str) -> None:
        """Point the one endpoint at ``url`` (the rig's move: not an API call, not logged)."""
        with self.emulator._lock:  # the soak's own rig
            self.emulator._account.endpoints[self.endpoint_id].url = url

    def acknowledged_invoices(self) -> set[str]:
        """Invoices named by events a webhook server acknowledged."""
        ok = {a.event_id for a in self.emulator.deliveries if a.ok}
        return {
            str(e["data"]["object"]["id"])
            for e in self.emulator.events()
            if e["id"] in ok and str(e["type"]).startswith("invoice.")
        }

    def count_calls(self) -> None:
        """API calls, faults and deliveries from the emulator's logs."""
        report = self.report
        calls = self.emulator.calls
        report.api_calls = len(calls)
        report.faults_injected.update(c.fault for c in calls if c.fault)
        report.faults_injected["response held (client killed, or timed out)"] = sum(
            c.held for c in calls
        )
        report.faults_injected["429 (Stripe's own limits)"] = sum(
            1 for c in calls if c.status == 429 and not c.fault
        )
        report.faults_injected["replayed by Stripe (Idempotent-Replayed)"] = sum(
            c.replayed for c in calls
        )
        history = self.emulator.deliveries
        report.webhook_deliveries.update(
            {
                "acknowledged (2xx)": sum(1 for d in history if d.ok),
                "failed (server down), retried": sum(1 for d in history if not d.ok),
            }
        )
        report.operations["webhook delivery acknowledged"] = report.webhook_deliveries[
            "acknowledged (2xx)"
        ]
