"""A crash-soak worker process: bills its members through the Xero provider, durably.

Started (and ``SIGKILL``-ed, and started again) by ``crash_soak.py``::

    python soak/crash_worker.py --url URL --seed 7 --worker 1

The provider is ``load_durable_service`` over ``open_stores(URL)``: the Xero provider from the
environment (the emulator's variables), its idempotency ledger and the tracker's invoice state
in the database. For each of its members not yet finished (``crash_soak_members``), in order:
create the contact, raise the invoice, email it, each with the member's own idempotency key,
recording each result in the member's row. Each step is tried a few times, as an AMS job
would; a member whose step keeps failing waits for the next round. Exits 0 when all its members
are finished, 3 when rounds ran out, 4 when its supervisor (``--parent``) is gone.

``--memory-ledger`` gives the provider an in-memory ledger instead (what the audit must catch).

``--clock-jumps FILE``: the provider's clock (``clock=``, which measures Xero's key window
before a resend, token lifetimes and pacing) is the real monotonic clock plus the emulated
seconds the supervisor has jumped the emulator's clock, read from ``FILE``: the minutes a
jump stands for pass for this process too, as real minutes would.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from crash_tables import DbListener, MemberPlan, members, record_problem

from ams_billing import (
    AuthenticationError,
    BillingError,
    BillingService,
    ProviderUnavailableError,
    RateLimitedError,
    load_durable_service,
)
from ams_billing.providers.xero.ledger import InMemoryIdempotencyStore
from ams_billing.stores import open_stores
from ams_billing.stores.database import write_transaction

ATTEMPTS = 4
"""Tries of one step with one key before the member waits for the next round."""

ROUNDS = 40
"""Passes over the worker's unfinished members before it gives up (exit 3)."""

MAX_WAIT = 1.0
"""The longest real wait between two tries (a Retry-After of an hour is not waited out here;
the member simply waits for the next round, as an AMS job would retry later)."""

_TRANSIENT = (RateLimitedError, ProviderUnavailableError, AuthenticationError)


class Worker:
    """Bills one worker's share of the members."""

    def __init__(
        self,
        service: BillingService,
        engine: sa.Engine,
        seed: int,
        scale: float,
        relative_dates: bool = False,
    ) -> None:
        self.service = service
        self.engine = engine
        self.seed = seed
        self.scale = scale
        self.relative_dates = relative_dates

    def unfinished(self, worker: int) -> list[int]:
        """This worker's members that are not finished, in order."""
        query = (
            sa.select(members.c.member)
            .where(members.c.worker == worker, members.c.finished == sa.false())
            .order_by(members.c.member)
        )
        with self.engine.connect() as connection:
            return [row.member for row in connection.execute(query)]

    def note(self, member: int, **values: Any) -> None:
        """Record a step's result in the member's row."""
        with write_transaction(self.engine) as connection:
            connection.execute(
                sa.update(members).where(members.c.member == member).values(**values)
            )

    def attempt(self, what: str, action: Callable[[], Any]) -> Any:
        """Try ``action`` up to ATTEMPTS times; ``None`` when it kept failing transiently."""
        for _ in range(ATTEMPTS):
            try:
                return action()
            except _TRANSIENT as error:
                wait = getattr(error, "retry_after", None)
                time.sleep(min(MAX_WAIT, (wait / self.scale) if wait else 0.2))
            except BillingError as error:
                # A typed refusal of a retry with the same key is a finding, not a fault.
                record_problem(self.engine, f"{what}: {type(error).__name__}: {error}")
                return None
        return None

    def bill(self, number: int) -> bool:
        """Run the member's steps; true once it is finished."""
        plan = MemberPlan(self.seed, number, self.relative_dates)
        service = self.service
        self.note(number, runs=members.c.runs + 1)
        contact = self.attempt(
            plan.key("contact"),
            lambda: service.create_contact(plan.contact(), idempotency_key=plan.key("contact")),
        )
        if contact is None:
            return False
        self.note(number, contact_id=contact.provider_id)
        invoice = self.attempt(
            plan.key("invoice"),
            lambda: service.create_invoice(plan.request(), idempotency_key=plan.key("invoice")),
        )
        if invoice is None:
            return False
        self.note(number, invoice_id=invoice.provider_id)
        sent = self.attempt(
            plan.key("email"),
            lambda: service.send_invoice(invoice, idempotency_key=plan.key("email")),
        )
        if sent is None:
            return False
        if not sent.sent:
            record_problem(self.engine, f"{plan.key('email')}: not sent ({sent.skipped_reason})")
        self.note(number, sent=True, finished=True)
        return True


class JumpingClock:
    """``time.monotonic()`` plus the emulator's jumps so far (emulated seconds / ``scale``)."""

    def __init__(self, path: str, scale: float) -> None:
        self.path = path
        self.scale = scale
        self.jumped = 0.0

    def __call__(self) -> float:
        """Seconds, monotonic, with the jumps so far."""
        try:  # the supervisor replaces the file whole (os.replace): never half written
            with open(self.path) as file:
                self.jumped = max(self.jumped, float(file.read()))
        except (OSError, ValueError):
            pass  # keep the last value: a clock never goes back
        return time.monotonic() + self.jumped / self.scale


def wait_for_gate(path: str, limit: float = 60.0) -> None:
    """Wait (at most ``limit`` seconds) until the supervisor removes the gate file.

    The supervisor keeps it until its first random kill has happened, so the work cannot be
    done before that kill however fast the members go.
    """
    deadline = time.monotonic() + limit
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    """Bill this worker's unfinished members; 0 when all are finished."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--memory-ledger", action="store_true")
    parser.add_argument(
        "--relative-dates", action="store_true", help="issue today, due in 30 days (Stripe)"
    )
    parser.add_argument("--parent", type=int, help="stop when this process is gone")
    parser.add_argument("--clock-jumps", help="a file with the emulator's jumps (seconds)")
    parser.add_argument(
        "--gate", help="while this file exists, do not start the last member (waits at most 60 s)"
    )
    args = parser.parse_args(argv)
    extra: dict[str, Any] = {}
    if args.clock_jumps:
        extra["clock"] = JumpingClock(args.clock_jumps, args.scale)
    if args.memory_ledger:
        extra["idempotency_store"] = InMemoryIdempotencyStore()
    with open_stores(args.url, upgrade=False) as stores:
        service = load_durable_service(stores, listeners=[DbListener(stores.engine)], **extra)
        worker = Worker(service, stores.engine, args.seed, args.scale, args.relative_dates)
        try:
            for _ in range(ROUNDS):
                todo = worker.unfinished(args.worker)
                if not todo:
                    return 0
                for number in todo:
                    if args.parent and os.getppid() != args.parent:
                        return 4  # the supervisor died: stop rather than run on unwatched
                    if args.gate and len(worker.unfinished(args.worker)) == 1:
                        wait_for_gate(args.gate)
                    worker.bill(number)
        except Exception as error:  # anything untyped is a finding; keep it, then crash
            record_problem(stores.engine, f"worker {args.worker}: untyped {error!r}")
            raise
    return 3


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
