"""Crash soak: worker and webhook processes SIGKILL-ed and restarted, then an audit of the books.

Run it with ``nox -s soak`` or directly (PostgreSQL needs Debian's ``postgresql`` package)::

    python soak/crash_soak.py --store sqlite postgres --seed 7

What it does, per store (RELIABILITY.md has the figures of the last full run):

1. **One emulator** (``XeroEmulator`` served over loopback HTTP by this supervisor process, on a
   real clock sped up ``--scale`` times, faults on: 429s, 500s, 503s, slow answers past the
   client's timeout, connections cut before and after the change, webhook deliveries duplicated
   and reordered).
2. **Worker processes** (``crash_worker.py``) bill the members through the unmodified
   ``XeroProvider``, with the idempotency ledger and the invoice state in the database
   (``open_stores`` + ``load_durable_service``): an SQLite file shared by all, or PostgreSQL.
3. **Webhook server processes** (``crash_webhooks.py``) serve the documented
   ``WebhookWSGIApp(WebhookEndpoint(service, on_delivery=BackgroundProcessor(service,
   inbox=stores.inbox).submit))``; this supervisor has the emulator deliver to them and plays
   the members paying their invoices (70 % at once, 15 % in two instalments, 15 % never).
4. **Kills.** At seeded moments the supervisor ``SIGKILL``-s: a worker whose create (or email)
   Xero has applied while its response is held (``XeroEmulator.hold_responses``); a worker at a
   random moment; a webhook server right after its 200, while the delivery waits to be
   processed. After each worker kill the emulator's clock jumps past Xero's ``Idempotency-Key``
   window (6 minutes) before the worker restarts, so only the durable ledger can stop a second
   copy. The jump passes for the surviving workers too (their provider clock adds it), wherever
   they are: between a lost answer and their own resend, or while the emulator holds their
   applied answer (see :meth:`Supervisor.kill_worker`). Every killed process is restarted; a
   restarted worker re-runs its unfinished members with the same keys.
5. **Drain.** Faults off, the last webhooks delivered, the webhook servers killed after their
   last 200, and ``ams-billing webhooks drain`` (a real subprocess) empties the inbox.
6. **Audit** (exit 1 if any count is not 0): duplicate contacts or invoices in the emulator's
   books; lost creates (a finished member without its invoice, sent, in the books, or a member
   never finished); invoices nobody was told of; invoices emailed twice; acknowledged
   deliveries left in the inbox or whose invoices' state never reached the listener; paid
   invoices never reported PAID; PAID going back in what a listener was told; problems the
   workers recorded.

Bounded: every wait has a timeout, the whole run has ``--budget`` seconds per store, and every
process started is killed (its process group) on the way out, even on failure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from crash_tables import create_tables, members, problems, told
from soak import API, XERO_FAULTS, duplicates, emailed_twice

from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    EmulatorServer,
    FaultKind,
    FaultRule,
    RateLimits,
    ResponseHold,
    WebhookBehaviour,
    XeroEmulator,
    provider_environment,
)
from ams_billing.providers.xero.ledger import xero_key
from ams_billing.providers.xero.mapping import STATUSES as XERO_STATUSES
from ams_billing.stores import SqlStores, open_stores

__all__ = ["CrashConfig", "CrashReport", "main", "run_crash_soak"]

SOAK_DIR = Path(__file__).resolve().parent
REPO = SOAK_DIR.parent
POSTGRES_SCRIPT = REPO / "tests" / "in_ams" / "postgres.sh"

KEY_WINDOW_JUMP = 400.0
"""Seconds the emulator's clock jumps after a worker is killed: past Xero's Idempotency-Key
window (the emulator keeps keys 360 s, see xero-api.md), so Xero no longer replays them."""

HOLD_TARGETS = (
    ("create_invoice", "PUT", r"/Invoices$"),
    ("create_contact", "POST", r"/Contacts$"),
    ("create_invoice", "PUT", r"/Invoices$"),
    ("send_invoice", "POST", r"/Invoices/[^/]+/Email$"),
)
"""What the n-th held-response kill holds (cycling): an invoice first, and most often."""

CRASH_FAULTS = tuple(
    (kind, probability, extra)
    for kind, probability, extra in XERO_FAULTS
    if kind is not FaultKind.RATE_LIMIT_DAY and (kind is not FaultKind.SLOW or extra["delay"] > 30)
)
"""The in-process soak's faults, but for the day limit (its Retry-After of an hour would stall
every process for real time here; the in-process soak covers it on its virtual clock) and the
short delays (0.2 s at this scale; only the ones past the client's timeout matter here)."""

AMBIGUOUS = frozenset({FaultKind.DROP_AFTER.value, FaultKind.SLOW.value})
"""Faults after which a write was applied but its client does not know: it will send it again."""

SURVIVOR_HOLD = 6.0
"""Real seconds a survivor's held answer is kept after a jump: past its client's 3 s timeout,
so the client gives up on it and its provider decides whether to resend."""

SURVIVOR_HOLD_SHARE = 0.4
"""The share of held calls after which another worker is killed (and the clock jumps) while
the held one lives on, instead of killing the held call's own worker. Never the first held
call: that one always kills its own worker (an invoice; the CI tests count on it)."""

RETRY_GAP = 12.0
"""Real seconds within which a client sends again a write whose answer it lost (the 3 s
timeout, the provider's backoff, a pacer's pause); after that it has given up on the call."""

QUIET_WAIT = 30.0
"""The longest wait for a moment without such a retry pending before the clock jumps anyway."""

WEBHOOK_PATH = "/billing/xero/webhooks/"
"""Where ``WebhookEndpoint`` answers (its default path)."""


def member_stems(plan_key: str) -> dict[str, str]:
    """The stems of the ``Idempotency-Key`` s the provider sends for one member's steps.

    The provider sends ``xero_key(...)`` plus ``:`` and a digest of the body.
    """
    return {
        xero_key("contact", f"contact:{plan_key}"): "contact",
        xero_key("contact", f"invoice:invoice:{plan_key}"): "contact (for the invoice)",
        xero_key("invoice", f"invoice:{plan_key}"): "invoice",
        xero_key("email", f"email:{plan_key}"): "email",
    }


_MEMBER = re.compile(r"crash-(\d+)-(\d{5})", re.IGNORECASE)
TICK = 0.05


@dataclass
class CrashConfig:
    """The size and the seed of one run."""

    store: str = "sqlite"
    seed: int = 7
    provider: str = "xero"
    members: int = 200
    workers: int = 3
    webhook_servers: int = 2
    kills: int = 8
    hold_kills: int = 8
    webhook_kills: int = 6
    kill_gap: float = 2.0
    """Mean real seconds between random worker kills (each gap drawn from half to 1.5 times)."""
    scale: float = 10.0
    budget: float = 600.0
    memory_ledger: bool = False


@dataclass
class CrashReport:
    """The figures of one run, and what the audit found."""

    store: str
    seed: int
    provider: str = "xero"
    members: int = 0
    workers: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    restarts: Counter[str] = field(default_factory=Counter)
    worker_exits: Counter[str] = field(default_factory=Counter)
    member_runs: int = 0
    operations: Counter[str] = field(default_factory=Counter)
    api_calls: int = 0
    faults_injected: Counter[str] = field(default_factory=Counter)
    webhook_deliveries: Counter[str] = field(default_factory=Counter)
    acknowledged_unprocessed_at_kill: int = 0
    cli_drain: list[dict[str, Any]] = field(default_factory=list)
    clock_jumps: int = 0
    clock_jumps_not_quiet: int = 0
    resends_pending_at_jumps: int = 0
    jumps_while_a_survivors_answer_held: int = 0
    resends_refused: int = 0
    not_quiet: list[str] = field(default_factory=list)
    quiet_wait_seconds: float = 0.0
    duplicates: int = 0
    lost: int = 0
    orphans: int = 0
    emailed_twice: int = 0
    unprocessed_acknowledged: int = 0
    paid_never_reported: int = 0
    regressions: int = 0
    worker_problems: int = 0
    problems: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    diagnoses: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the audit found nothing."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        data: dict[str, Any] = {}
        for name, value in vars(self).items():
            data[name] = dict(sorted(value.items())) if isinstance(value, Counter) else value
        data["problems"] = self.problems[:50]
        data["wall_seconds"] = round(self.wall_seconds, 1)
        data["quiet_wait_seconds"] = round(self.quiet_wait_seconds, 1)
        return data


class Child:
    """One process the supervisor started, in a process group of its own."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.killed = False

    def start(self) -> None:
        """Start (or start again) the process."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our own scripts
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.killed = False

    @property
    def alive(self) -> bool:
        """Whether it runs."""
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL its whole process group and reap it."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=15)
        self.killed = True


class Supervisor:
    """Runs one crash soak on one database (see the module docstring)."""

    def __init__(self, config: CrashConfig, url: str, work: Path, report: CrashReport) -> None:
        self.config = config
        self.url = url
        self.work = work
        self.report = report
        self.rng = random.Random(config.seed)  # noqa: S311 - reproducible schedule
        self.children: list[Child] = []
        self.workers: list[Child] = []
        self.servers: list[Child] = []
        self.ports: dict[str, int] = {}
        self.paid: dict[str, Decimal] = {}  # invoice id -> paid so far
        self.totals: dict[str, Decimal] = {}
        self.paid_in_full: set[str] = set()
        self.handled: set[int] = set()
        self.instalments: list[tuple[float, str, Decimal]] = []
        self.hold: ResponseHold | None = None
        self.hold_armed_at = 0.0
        self.hold_moment = ""
        self.holds_caught = 0
        self.survivor_hold_until: float | None = None
        self.jumped = 0.0
        self.jumps_file = work / "clock-jumps"
        self.jumps_file.write_text("0.0")
        self.gate = work / "first-random-kill-gate"
        self.hold_kills_left = config.hold_kills
        self.stems: dict[str, int] = {}
        self.next_target = 0
        self.make_emulator()
        self.stores: SqlStores | None = None

    # -- the provider's emulator (what a subclass for another provider replaces) -----------

    key_window_jump = KEY_WINDOW_JUMP
    """Emulated seconds the clock jumps after a worker kill: past the provider's key window."""
    hold_targets = HOLD_TARGETS
    """What the n-th held-response kill holds: (moment, method, path pattern)."""
    provider = "xero"
    pays_in_instalments = True
    """Whether members may pay in two instalments (else the 15 % who would, pay in full)."""

    def make_emulator(self) -> None:
        """Build ``self.emulator`` (faults off) and ``self.server`` (not started)."""
        limits = RateLimits(per_day=None)  # day-limit 429s: see CRASH_FAULTS
        emulator_config = EmulatorConfig(
            seed=self.config.seed,
            rate_limits=limits,
            webhooks=WebhookBehaviour(duplicate=0.2, reorder=True, batch_size=5),
            email_daily_limit=10**9,
        )
        self.emulator = XeroEmulator(emulator_config, clock=EmulatorClock.real(self.config.scale))
        self.server = EmulatorServer(self.emulator)

    def worker_args(self) -> list[str]:
        """Extra arguments for every worker process."""
        return []

    def provider_env(self) -> dict[str, str]:
        """The variables that point the provider at the emulator."""
        env = provider_environment(self.emulator.config, self.server.base_url)
        env["XERO_TIMEOUT"] = "3"
        return env

    def install_faults(self) -> None:
        """Switch the faults of the faulted phase on."""
        for kind, probability, extra in CRASH_FAULTS:
            self.emulator.add_fault(
                FaultRule(kind=kind, path=API, probability=probability, **extra)
            )

    def emulated_now(self) -> datetime:
        """The emulator's clock."""
        return self.emulator.clock.now()

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock ``seconds`` on."""
        self.emulator.clock.advance(seconds)

    def stems_of(self, plan_key: str) -> dict[str, str]:
        """The stems of the keys the provider sends for one member's steps."""
        return member_stems(plan_key)

    def books(self) -> tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]:
        """The books: contacts as (id, account reference), and invoices by id.

        Each invoice is a dict of ``id``, ``reference``, ``status`` (the core's name),
        ``sent``, ``amount_paid`` and ``total``.
        """
        books = self.emulator.books()
        contacts = [(c["ContactID"], c.get("ContactNumber") or "") for c in books.contacts]
        invoices = {
            i["InvoiceID"]: {
                "id": i["InvoiceID"],
                "reference": i.get("Reference") or "",
                "status": XERO_STATUSES[i["Status"]].value,
                "raw_status": i["Status"],
                "sent": bool(i.get("SentToContact")),
                "amount_paid": Decimal(str(i.get("AmountPaid") or 0)),
                "total": Decimal(str(i["Total"])),
            }
            for i in books.invoices
        }
        return contacts, invoices

    def emailed_twice(self) -> list[str]:
        """Invoices (lower-case ids) the provider was asked to email more than once."""
        return emailed_twice(self.emulator.calls)

    def webhooks_pending(self) -> int:
        """Deliveries the emulator still has to make."""
        return int(self.emulator.webhooks.pending)

    def acknowledged_invoices(self) -> set[str]:
        """Invoice ids named by deliveries a webhook server acknowledged (200)."""
        return {
            event["resourceId"]
            for delivery in self.emulator.webhooks.history
            if delivery.status == 200
            for event in delivery.payload["events"]
            if event["eventCategory"] == "INVOICE"
        }

    # -- processes -----------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """What every child gets: the emulator's provider variables and the database."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("XERO_", "AMS_BILLING_")) and k != "PYTHONPATH"
        }
        env |= self.provider_env()
        env |= {
            "AMS_BILLING_RATE_LIMIT_TIME_SCALE": str(self.config.scale),
            "AMS_BILLING_DATABASE_URL": self.url,
            "PYTHONPATH": str(SOAK_DIR),
            "PYTHONUNBUFFERED": "1",
        }
        return env

    def spawn(self, name: str, argv: list[str]) -> Child:
        """Start a child and remember it for the cleanup."""
        command = [sys.executable, *argv, "--parent", str(os.getpid())]
        child = Child(name, command, self.environment(), self.work / f"{name}.log")
        self.children.append(child)
        child.start()
        return child

    def restart_server(self, child: Child) -> None:
        """Start a webhook server again and wait for its port."""
        (self.work / f"{child.name}.port").unlink(missing_ok=True)
        child.start()
        self.wait_for_port(child)

    def wait_for_port(self, child: Child) -> None:
        """Wait until a webhook server listens; remember its port."""
        port_file = self.work / f"{child.name}.port"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if port_file.exists():
                self.ports[child.name] = int(port_file.read_text())
                return
            if not child.alive:
                break
            time.sleep(TICK)
        raise RuntimeError(f"{child.name} did not start (see {child.log})")

    def kill_worker(self, index: int | None, moment: str) -> None:
        """SIGKILL a worker (or the one whose answer the emulator holds), jump, restart it.

        The jump stands for the minutes a real restart takes, and those minutes pass for every
        process: each worker's provider clock adds the jumps (``--clock-jumps``), as its real
        clock would. The jump lands wherever the survivors are, between a lost answer and
        their own resend included, or while the emulator holds a survivor's applied answer
        (that worker times out after the jump; :meth:`handle_hold` lets the answer go later).
        Only one thing is waited for: that no call is inside the emulator (other than a held
        one) while the clock jumps, since a real call does not straddle minutes in an instant
        (see :meth:`freeze_settled`).
        """
        frozen = [w for w in self.workers if w.alive]
        held = self.held_victim()
        if index is None:
            if held is None:
                return
            index, moment = held
        self.freeze_settled(frozen, index)
        try:
            before = self.emulated_now()
            self.workers[index].kill()
            self.report.kills[moment] += 1
            self.report.events.append(f"{before:%H:%M:%S.%f} killed worker {index} ({moment})")
            if held is not None and self.hold is not None:
                if held[0] == index:
                    self.hold.release()  # the answer goes to a dead socket
                    self.hold, self.survivor_hold_until = None, None
                    self.holds_caught += 1
                    self.hold_kills_left -= 1
                elif self.survivor_hold_until is None:
                    # A survivor's applied answer is held across the jump: it times out after
                    # it, and its provider must not resend blind. Let the answer go later.
                    self.survivor_hold_until = time.monotonic() + SURVIVOR_HOLD
                    self.report.jumps_while_a_survivors_answer_held += 1
                    self.hold_kills_left -= 1  # counts as one of the held-call rounds
            self.jumped += self.key_window_jump
            tmp = self.jumps_file.with_suffix(".tmp")
            tmp.write_text(repr(self.jumped))
            os.replace(tmp, self.jumps_file)  # the workers' clocks first, then Xero's
            self.advance(self.key_window_jump)
            self.report.clock_jumps += 1
        finally:
            self.signal(frozen, signal.SIGCONT)
        self.workers[index].start()
        self.report.restarts["worker"] += 1

    def held_victim(self) -> tuple[int, str] | None:
        """The worker whose applied call the emulator holds, and the moment's name."""
        if self.hold is None or not self.hold.held:
            return None
        call = self.hold.held[0]
        member = self.member_of(call.path, call.request_body)
        if member is None:
            self.report.problems.append(f"a held call names no member: {call.path}")
            return None
        return (
            member % self.config.workers,
            f"worker, {self.hold_moment} applied and its answer held",
        )

    def freeze_settled(self, frozen: list[Child], victim: int) -> None:
        """Leave ``frozen`` stopped once no call is inside the emulator (but a held one).

        A call the emulator is serving when the clock jumps would straddle the jump: checked
        by the provider against the old time, applied by Xero at the new one, a trip of
        minutes in an instant that no real call makes. Counts, for the figures, the
        survivors' lost answers still waiting for their resend at the jump.
        """
        started = time.monotonic()
        while True:
            self.signal(frozen, signal.SIGSTOP)
            time.sleep(0.02)  # let a request already written reach the emulator
            allowed = 1 if self.hold is not None and self.hold.held else 0
            if self.emulator.in_flight() <= allowed:
                break
            if time.monotonic() - started > QUIET_WAIT:
                self.report.clock_jumps_not_quiet += 1
                self.report.not_quiet.append(
                    f"{self.emulator.in_flight()} calls in flight (allowed {allowed})"
                )
                break
            self.signal(frozen, signal.SIGCONT)
            time.sleep(0.05)
        self.report.resends_pending_at_jumps += self.pending_resends({victim})
        self.report.quiet_wait_seconds += time.monotonic() - started

    @staticmethod
    def signal(children: list[Child], signum: signal.Signals) -> None:
        """Send ``signum`` to each child's process group."""
        for child in children:
            if child.proc is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.proc.pid, signum)

    def pending_resends(self, victims: set[int]) -> int:
        """Writes applied whose client lost the answer and has not yet sent them again.

        Calls of the victims' members are left out: they will never be sent again by their
        killed process; the restarted one starts over from the ledger.
        """
        pending: dict[str, float] = {}
        now = self.emulated_now()
        for call in self.emulator.calls:
            key = call.idempotency_key
            if key is None or call.method not in ("PUT", "POST"):
                continue
            if call.fault in AMBIGUOUS:
                pending[key] = (now - call.at).total_seconds() / self.config.scale
            elif call.status is not None and call.status < 500 and call.status != 429:
                pending.pop(key, None)  # answered (or replayed): the client knows
        return sum(
            1
            for key, age in pending.items()
            if age < RETRY_GAP and self.member_of_key(key) % self.config.workers not in victims
        )

    def member_of_key(self, key: str) -> int:
        """The member whose step sent ``key`` (-1 when it is none of theirs)."""
        if not self.stems:
            for member in range(self.config.members):
                plan = f"crash-{self.config.seed}-{member:05d}"
                for stem in self.stems_of(plan):
                    self.stems[stem] = member
        stem = key.rsplit(":", 1)[0]
        return self.stems.get(stem, -1)

    def kill_server(self, index: int, moment: str) -> None:
        """SIGKILL a webhook server; count what it acknowledged and left; start it again."""
        server = self.servers[index]
        server.kill()
        self.report.kills[moment] += 1
        assert self.stores is not None
        self.report.acknowledged_unprocessed_at_kill += self.stores.inbox.pending()
        self.restart_server(server)
        self.report.restarts["webhook server"] += 1

    def cleanup(self) -> None:
        """Kill every process started here (even on failure), release holds, stop the server."""
        for child in self.children:
            child.kill()
        self.emulator.release_holds()
        with contextlib.suppress(Exception):
            self.server.stop()

    # -- the run -------------------------------------------------------------------------

    def run(self) -> None:
        """Start everything, kill and restart until every member is billed, then drain."""
        config = self.config
        self.server.start()
        self.install_faults()
        self.stores = open_stores(self.url)
        if config.kills > 0:  # no worker starts its last member before the first random kill
            self.gate.write_text("closed")
        create_tables(self.stores.engine, config.workers, config.members)
        for index in range(config.webhook_servers):
            name = f"webhooks-{index}"
            port_file = self.work / f"{name}.port"
            server = self.spawn(
                name, [str(SOAK_DIR / "crash_webhooks.py"), "--url", self.url, "--port-file",
                       str(port_file)],
            )  # fmt: skip
            self.servers.append(server)
            self.wait_for_port(server)
        for index in range(config.workers):
            script = str(SOAK_DIR / "crash_worker.py")
            argv = [script, "--url", self.url, "--seed", str(config.seed), "--worker",
                    str(index), "--scale", str(config.scale),
                    "--clock-jumps", str(self.jumps_file)]  # fmt: skip
            if config.memory_ledger:
                argv.append("--memory-ledger")
            if config.kills > 0:
                argv += ["--gate", str(self.gate)]
            argv += self.worker_args()
            self.workers.append(self.spawn(f"worker-{index}", argv))
        deadline = time.monotonic() + config.budget
        self.faulted_phase(deadline)
        self.final_phase(deadline)

    def faulted_phase(self, deadline: float) -> None:
        """Bill, pay, deliver and kill until every worker finished (or the budget ran out)."""
        config = self.config
        kills, webhook_kills = config.kills, config.webhook_kills
        # The first random kill comes at its moment or once a few members are finished,
        # whichever is first: with few members the workers could otherwise be done before its
        # moment, and the run would have killed none. Its own generator: the seeded schedule
        # of the rest stays what it was.
        first_rng = random.Random(f"{config.seed}:first-kill")  # noqa: S311 - reproducible
        first_kill_by = first_rng.randint(1, max(1, config.members // 2))
        first_kill_pending = kills > 0
        now = time.monotonic()
        gap = (config.kill_gap / 2, config.kill_gap * 1.5)
        next_kill = now + self.rng.uniform(*gap)
        next_hold = now + self.rng.uniform(0.2, 1.0)
        next_pay = next_delivery = now
        while True:
            now = time.monotonic()
            if now > deadline:
                self.report.problems.append("the budget ran out before every member was billed")
                return
            if self.reap():
                return
            if self.handle_hold(now, next_hold):
                next_hold = now + self.rng.uniform(0.5, 2.0)
            due = first_kill_pending and self.finished() >= first_kill_by
            if kills and (now >= next_kill or due):
                busy = self.busy_workers()
                if busy:
                    self.kill_worker(self.rng.choice(busy), "worker, at a random moment")
                    kills -= 1
                    first_kill_pending = False
                    self.gate.unlink(missing_ok=True)
                next_kill = now + self.rng.uniform(*gap)
            if now >= next_pay:
                self.pay()
                next_pay = now + 0.5
            if now >= next_delivery:
                index, acknowledged = self.deliver(force=False)
                if acknowledged and webhook_kills and self.rng.random() < 0.4:
                    self.kill_server(index, "webhook server, after its 200")
                    webhook_kills -= 1
                next_delivery = now + 0.5
            time.sleep(TICK)

    def reap(self) -> bool:
        """Restart workers that stopped on their own; true when every member is finished."""
        for index, worker in enumerate(self.workers):
            if worker.proc is None or worker.alive:
                continue
            code = worker.proc.returncode
            if code == 0:
                continue
            self.report.worker_exits[f"worker exit {code}"] += 1
            self.report.problems.append(
                f"worker {index} exited {code} on its own (see {worker.log})"
            )
            if self.report.worker_exits.total() > 3 * self.config.workers:
                raise RuntimeError("workers keep failing; stopping")
            worker.start()
            self.report.restarts["worker (after its own exit)"] += 1
        if any(w.alive for w in self.workers):
            return False
        return self.unfinished() == 0

    def handle_hold(self, now: float, next_hold: float) -> bool:
        """Arm a response hold, or kill the worker whose applied call it holds.

        True when a held call's worker was killed (``self.hold`` is then None).
        """
        if self.hold is None:
            if self.hold_kills_left > 0 and now >= next_hold:
                # The n-th hold that caught a call: one that caught nothing does not count.
                targets = self.hold_targets
                moment, method, path = targets[self.holds_caught % len(targets)]
                self.hold = self.emulator.hold_responses(method, path, count=1, timeout=60)
                self.hold_armed_at, self.hold_moment = now, moment
            return False
        if not self.hold.held:
            if now - self.hold_armed_at > 5.0:  # nobody made that call: try another later
                self.hold.release()
                self.hold = None
            return False
        if self.survivor_hold_until is not None:
            # Held across another worker's jump: its client has timed out by now.
            if now >= self.survivor_hold_until:
                self.hold.release()
                self.hold, self.survivor_hold_until = None, None
            return False
        held = self.held_victim()
        others = [i for i, w in enumerate(self.workers) if w.alive and held and i != held[0]]
        if others and self.holds_caught > 0 and self.rng.random() < SURVIVOR_HOLD_SHARE:
            # Kill another worker instead: the jump lands while this one's answer is held.
            self.kill_worker(self.rng.choice(others), "worker, while another's answer is held")
            return False
        self.kill_worker(None, "")
        return self.hold is None

    def member_of(self, path: str, body: bytes) -> int | None:
        """The member a held call is for (from the body, or the emailed invoice's reference)."""
        found = _MEMBER.search(body.decode("utf-8", "replace"))
        if found is None and path.lower().endswith("/email"):
            invoice_id = path.rstrip("/").split("/")[-2].lower()
            for invoice in self.emulator.books().invoices:
                if invoice["InvoiceID"].lower() == invoice_id:
                    found = _MEMBER.search(invoice.get("Reference") or "")
        return int(found.group(2)) if found else None

    def busy_workers(self) -> list[int]:
        """Workers alive with members still to finish: the ones a random kill may hit."""
        assert self.stores is not None
        query = sa.select(members.c.worker).where(members.c.finished == sa.false()).distinct()
        with self.stores.engine.connect() as connection:
            owing = {int(row.worker) for row in connection.execute(query)}
        return [i for i, w in enumerate(self.workers) if w.alive and i in owing]

    def finished(self) -> int:
        """How many members are finished."""
        return self.config.members - self.unfinished()

    def unfinished(self) -> int:
        """How many members are not finished."""
        assert self.stores is not None
        query = sa.select(sa.func.count()).where(members.c.finished == sa.false())
        with self.stores.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def pay(self, final: bool = False) -> None:
        """Members pay the invoices their worker finished: 70 % in full, 15 % in two halves."""
        assert self.stores is not None
        query = sa.select(members.c.member, members.c.invoice_id).where(
            members.c.finished == sa.true()
        )
        with self.stores.engine.connect() as connection:
            rows = connection.execute(query).all()
        now = time.monotonic()
        for row in rows:
            if row.member in self.handled:
                continue
            self.handled.add(row.member)
            roll = random.Random(self.config.seed * 7919 + row.member).random()  # noqa: S311
            if roll >= 0.85:
                continue
            total = self.total_of(row.invoice_id)
            if total is None:
                continue
            if roll < 0.7 or not self.pays_in_instalments:
                self.record_payment(row.invoice_id, total)
            else:
                half = (total / 2).quantize(Decimal("0.01"))
                self.record_payment(row.invoice_id, half)
                self.instalments.append((now + 2.0, row.invoice_id, total - half))
        due = [i for i in self.instalments if final or i[0] <= now]
        self.instalments = [i for i in self.instalments if i not in due]
        for _, invoice_id, amount in due:
            self.record_payment(invoice_id, amount)

    def total_of(self, invoice_id: str) -> Decimal | None:
        """The invoice's total in the books (``None``, and a problem, if it is not there)."""
        invoice = self.books()[1].get(invoice_id)
        if invoice is not None:
            total: Decimal = invoice["total"]
            self.totals[invoice_id] = total
            return total
        self.report.problems.append(f"finished invoice {invoice_id} is not in the books")
        return None

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        """Pay in the emulator, as the member would (queues Xero's INVOICE UPDATE webhook)."""
        try:
            self.emulator.record_payment(invoice_id, amount)
        except Exception as error:
            self.report.problems.append(f"paying {invoice_id} failed: {error}")
            return
        self.report.operations["record_payment"] += 1
        self.paid[invoice_id] = self.paid.get(invoice_id, Decimal(0)) + amount
        if self.paid[invoice_id] == self.totals[invoice_id]:
            self.paid_in_full.add(invoice_id)

    def deliver(self, *, force: bool) -> tuple[int, bool]:
        """Deliver due webhooks to the next webhook server; (its index, whether one got 200)."""
        index = self.next_target % len(self.servers)
        self.next_target += 1
        port = self.ports[self.servers[index].name]
        self.emulator.set_webhook_target(f"http://127.0.0.1:{port}{WEBHOOK_PATH}")
        results = self.emulator.deliver_webhooks(force=force)
        return index, any(r.status == 200 for r in results)

    def final_phase(self, deadline: float) -> None:
        """Faults off, last payments and deliveries, servers killed, then the CLI drains."""
        self.gate.unlink(missing_ok=True)
        self.emulator.clear_faults()
        self.emulator.release_holds()
        self.pay(final=True)
        for server in self.servers:
            if not server.alive:
                self.restart_server(server)
        end = min(deadline, time.monotonic() + 60)
        while time.monotonic() < end:
            self.deliver(force=True)
            if self.webhooks_pending() == 0:
                break
            time.sleep(0.2)
        else:
            self.report.problems.append("webhooks were still queued in the emulator at the end")
        # Killed right after their last 200s: what they acknowledged is the drain's to process.
        for server in self.servers:
            server.kill()
            self.report.kills["webhook server, after its last 200 (final)"] += 1
        self.cli_drain(deadline)

    def cli_drain(self, deadline: float) -> None:
        """Run ``ams-billing webhooks drain`` until the inbox is empty.

        Entries the killed servers had claimed come free when their leases (3 s) expire.
        """
        assert self.stores is not None
        argv = [sys.executable, "-m", "ams_billing.cli", "webhooks", "drain", "--url",
                self.url, "--listener", "crash_tables:DbListener", "--lease-seconds", "3",
                "--json"]  # fmt: skip
        for _ in range(10):
            if time.monotonic() > deadline:
                break
            done = subprocess.run(  # noqa: S603 - our own command
                argv, env=self.environment(), capture_output=True, text=True, timeout=120,
                check=False,
            )  # fmt: skip
            try:
                result = json.loads(done.stdout)
            except ValueError:
                result = {"output": done.stdout[-500:], "error": done.stderr[-500:]}
            result["exit"] = done.returncode
            self.report.cli_drain.append(result)
            if done.returncode == 0 and self.stores.inbox.pending() == 0:
                return
            time.sleep(3.5)

    # -- the audit -----------------------------------------------------------------------

    def resends_refused(self) -> int:
        """How often the workers' providers logged a resend refused past Xero's key window."""
        return sum(
            log.read_text(errors="replace").count(": not resent, ")
            for log in self.work.glob("worker-*.log")
        )

    def audit(self) -> None:
        """Compare the books, the inbox and what listeners were told with what happened."""
        report = self.report
        assert self.stores is not None
        contacts, invoices = self.books()
        rows = [(i["id"], i["reference"], i["status"], i["sent"]) for i in invoices.values()]
        duplicated = duplicates(contacts, rows)
        report.duplicates = len(duplicated)
        report.problems += duplicated
        for line in duplicated:
            self.diagnose(line.rsplit(" ", 1)[-1])
        contact_ids = dict(contacts)
        with self.stores.engine.connect() as connection:
            member_rows = connection.execute(sa.select(members)).all()
            told_rows = connection.execute(sa.select(told).order_by(told.c.id)).all()
            worker_problems = [r.text for r in connection.execute(sa.select(problems)).all()]
        report.members = len(member_rows)
        report.member_runs = sum(r.runs for r in member_rows)
        expected: set[str] = set()
        for row in member_rows:
            plan_ref = f"CRASH-{self.config.seed}-{row.member:05d}"
            if not row.finished:
                report.lost += 1
                report.problems.append(f"member {row.member} was never finished")
                continue
            report.operations["create_contact"] += 1
            report.operations["create_invoice"] += 1
            report.operations["send_invoice"] += 1
            invoice = invoices.get(row.invoice_id or "")
            expected.add(row.invoice_id or "")
            if invoice is None or invoice["reference"] != plan_ref:
                report.lost += 1
                report.problems.append(f"member {row.member}: its invoice is not in the books")
            elif not invoice["sent"]:
                report.lost += 1
                report.problems.append(f"member {row.member}: its invoice was never sent")
            if (
                contact_ids.get(row.contact_id or "")
                != f"crash-{self.config.seed}-{row.member:05d}"
            ):
                report.lost += 1
                report.problems.append(f"member {row.member}: its contact is not in the books")
        orphans = [i for i in invoices if i not in expected]
        report.orphans = len(orphans)
        report.problems += [f"invoice {invoices[i]['reference']} ({i}) nobody was told of"
                            for i in orphans]  # fmt: skip
        twice = self.emailed_twice()
        for invoice_id in twice:
            reference = next(
                (i["reference"] for i in invoices.values() if i["id"].lower() == invoice_id), ""
            )
            self.diagnose(reference)
        report.emailed_twice = len(twice)
        report.problems += [f"invoice {i} emailed more than once" for i in twice]
        self.audit_listener(invoices, told_rows)
        report.worker_problems = len(worker_problems)
        report.problems += [f"a worker saw: {text}" for text in worker_problems]
        self.count_calls()

    def diagnose(self, reference: str) -> None:
        """Keep the calls made under one member's keys, for a finding's report."""
        found = _MEMBER.search(reference)
        if found is None:
            return
        member = int(found.group(2))
        plan_key = f"crash-{self.config.seed}-{member:05d}"
        stems = self.stems_of(plan_key)
        for call in self.emulator.calls:
            for stem, step in stems.items():
                if (call.idempotency_key or "").startswith(stem):
                    self.report.diagnoses.append(
                        f"member {member} {step}: {call.at:%H:%M:%S.%f} {call.endpoint} "
                        f"status={call.status} fault={call.fault} replayed={call.replayed} "
                        f"dropped={call.dropped} held={call.held}"
                    )

    def audit_listener(self, invoices: dict[str, dict[str, Any]], told_rows: list[Any]) -> None:
        """Audit what listeners were told against the inbox and the books.

        The inbox is empty; the state of every acknowledged, paid invoice reached the
        listener; every invoice paid in full was told PAID; none went back from PAID.
        """
        report = self.report
        assert self.stores is not None
        pending = self.stores.inbox.pending()
        last: dict[str, str] = {}
        was_paid: set[str] = set()
        for row in told_rows:
            if row.invoice_id in was_paid and row.status != "PAID":
                report.regressions += 1
                report.problems.append(f"{row.invoice_id}: told PAID, then {row.status}")
            if row.status == "PAID":
                was_paid.add(row.invoice_id)
            last[row.invoice_id] = row.status
            report.operations["listener told"] += 1
        acknowledged = self.acknowledged_invoices()
        missed = [
            i
            for i in sorted(acknowledged)
            if i in invoices
            and invoices[i]["amount_paid"] > 0
            and last.get(i) != invoices[i]["status"]
        ]
        report.unprocessed_acknowledged = pending + len(missed)
        if pending:
            report.problems.append(f"{pending} acknowledged deliveries left in the inbox")
        report.problems += [
            f"{i}: acknowledged, {invoices[i]['status']} in the books, listener told {last.get(i)}"
            for i in missed
        ]
        unreported = sorted(i for i in self.paid_in_full if i not in was_paid)
        report.paid_never_reported = len(unreported)
        report.problems += [f"{i}: paid in full, never reported PAID" for i in unreported]

    def count_calls(self) -> None:
        """API calls, faults and deliveries from the emulator's logs."""
        report = self.report
        calls = self.emulator.calls
        report.api_calls = len(calls)
        report.faults_injected.update(c.fault for c in calls if c.fault)
        report.faults_injected["response held (client killed, or timed out)"] = sum(
            c.held for c in calls
        )
        report.faults_injected["401 TokenExpired"] = sum(
            1 for c in calls if c.status == 401 and c.endpoint != "POST /connect/token"
        )
        report.faults_injected["429 (Xero's own limits)"] = sum(
            1 for c in calls if c.status == 429 and not c.fault
        )
        history = self.emulator.webhooks.history
        report.webhook_deliveries.update(
            {
                "acknowledged (200)": sum(1 for d in history if d.status == 200),
                "duplicated": sum(1 for d in history if d.duplicate),
                "failed (server down), retried": sum(1 for d in history if d.status != 200),
            }
        )
        report.operations["webhook delivery acknowledged"] = report.webhook_deliveries[
            "acknowledged (200)"
        ]


@contextlib.contextmanager
def database(store: str, work: Path) -> Iterator[str]:
    """The database URL for ``store``: an SQLite file in ``work``, or a throwaway PostgreSQL."""
    if store == "sqlite":
        yield f"sqlite:///{work / 'billing.sqlite3'}"
        return
    # The server runs as the postgres user: its folder must not sit under a private parent.
    folder = Path(tempfile.mkdtemp(prefix="ams-billing-crash-pg-"))
    try:
        started = subprocess.run(  # noqa: S603 - the repository's own script
            ["bash", str(POSTGRES_SCRIPT), "start", str(folder)],  # noqa: S607
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        if started.returncode != 0:
            raise RuntimeError(f"postgres.sh start failed: {started.stderr[-2000:]}")
        port = (folder / "port").read_text().strip()
        yield f"postgresql+psycopg://ams:ams@127.0.0.1:{port}/ams"
    finally:
        subprocess.run(  # noqa: S603
            ["bash", str(POSTGRES_SCRIPT), "stop", str(folder)],  # noqa: S607
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def run_crash_soak(config: CrashConfig, keep: Path | None = None) -> CrashReport:
    """Run one crash soak on ``config.store`` and return its audited report."""
    report = CrashReport(
        store=config.store, seed=config.seed, provider=config.provider, workers=config.workers
    )
    supervisor_class = Supervisor
    if config.provider == "stripe":
        from crash_stripe import StripeSupervisor  # noqa: PLC0415 - Stripe's rig, when asked

        supervisor_class = StripeSupervisor
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"crash-soak-{config.provider}-{config.store}-"))
    try:
        with database(config.store, work) as url:
            supervisor = supervisor_class(config, url, work, report)
            try:
                supervisor.run()
            except Exception as error:
                report.problems.append(f"the supervisor failed: {error!r}")
            finally:
                supervisor.cleanup()
            try:
                supervisor.report.resends_refused = supervisor.resends_refused()
                supervisor.audit()
            finally:
                if supervisor.stores is not None:
                    supervisor.stores.close()
    finally:
        if keep is not None:
            target = keep / f"{config.provider}-{config.store}-{config.seed}"
            shutil.copytree(work, target, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    report.wall_seconds = time.monotonic() - started
    return report


def markdown(reports: list[CrashReport], command: str) -> str:
    """The figures as a Markdown table, for RELIABILITY.md."""

    def pairs(counter: Counter[str]) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items()) if v) or "0"

    rows = [
        ("members / workers", lambda r: f"{r.members} / {r.workers}"),
        ("kills by moment", lambda r: pairs(r.kills)),
        ("restarts", lambda r: pairs(r.restarts)),
        ("clock jumps past the key window (calls still in flight)",
         lambda r: f"{r.clock_jumps} ({r.clock_jumps_not_quiet})"),
        ("survivors' lost answers awaiting their own resend at a jump",
         lambda r: str(r.resends_pending_at_jumps)),
        ("jumps while a survivor's applied answer was held",
         lambda r: str(r.jumps_while_a_survivors_answer_held)),
        ("resends the workers' providers refused (past the key window)",
         lambda r: str(r.resends_refused)),
        ("waited for calls in flight to settle before a jump (s)",
         lambda r: f"{r.quiet_wait_seconds:.1f}"),
        ("member runs (re-runs after kills included)", lambda r: str(r.member_runs)),
        ("operations", lambda r: pairs(r.operations)),
        ("API calls", lambda r: str(r.api_calls)),
        ("faults injected", lambda r: pairs(r.faults_injected)),
        ("webhook deliveries", lambda r: pairs(r.webhook_deliveries)),
        ("acknowledged, unprocessed when a server was killed",
         lambda r: str(r.acknowledged_unprocessed_at_kill)),
        ("drained by `ams-billing webhooks drain`",
         lambda r: str(sum(d.get("processed", 0) for d in r.cli_drain))),
        ("duplicate invoices or contacts", lambda r: str(r.duplicates)),
        ("lost creates", lambda r: str(r.lost)),
        ("invoices nobody was told of", lambda r: str(r.orphans)),
        ("emailed twice", lambda r: str(r.emailed_twice)),
        ("acknowledged deliveries left unprocessed", lambda r: str(r.unprocessed_acknowledged)),
        ("paid invoices never reported PAID", lambda r: str(r.paid_never_reported)),
        ("status regressions (PAID went back)", lambda r: str(r.regressions)),
        ("problems recorded by workers", lambda r: str(r.worker_problems)),
        ("wall time (s)", lambda r: f"{r.wall_seconds:.1f}"),
    ]  # fmt: skip
    header = " | ".join(f"{r.provider}, {r.store} (seed {r.seed})" for r in reports)
    lines = [f"Command: `{command}`", "", f"| | {header} |", "|---|" + "---|" * len(reports)]
    for label, get in rows:
        lines.append(f"| {label} | " + " | ".join(get(r) for r in reports) + " |")
    return "\n".join(lines) + "\n"


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(143)  # unwinds through the cleanups


def main(argv: list[str] | None = None) -> int:
    """Command line: one crash soak per store and seed; exit 1 if any audit found anything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = CrashConfig()
    parser.add_argument("--store", nargs="+", choices=["sqlite", "postgres"], default=["sqlite"])
    parser.add_argument(
        "--provider",
        choices=["xero", "stripe"],
        default="xero",
        help="whose emulator and provider (stripe: the clock jumps past its 24 h key window)",
    )
    parser.add_argument("--seed", type=int, nargs="+", default=[defaults.seed])
    for name in ("members", "workers", "webhook_servers", "kills", "hold_kills",
                 "webhook_kills"):  # fmt: skip
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name)
        )
    parser.add_argument(
        "--kill-gap",
        type=float,
        default=defaults.kill_gap,
        help="mean seconds between random worker kills (the first also comes once a few "
        "members are finished)",
    )
    parser.add_argument("--scale", type=float, default=defaults.scale)
    parser.add_argument("--budget", type=float, default=defaults.budget, help="seconds per run")
    parser.add_argument(
        "--memory-ledger",
        action="store_true",
        help="give the workers an in-memory idempotency ledger (the audit must then fail)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the reports as JSON here")
    parser.add_argument("--keep", metavar="DIR", type=Path, help="keep the processes' logs here")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    reports = []
    out: TextIO = sys.stdout
    for seed in args.seed:
        for store in args.store:
            config = CrashConfig(
                store=store, seed=seed, provider=args.provider, members=args.members,
                workers=args.workers,
                webhook_servers=args.webhook_servers, kills=args.kills,
                hold_kills=args.hold_kills, webhook_kills=args.webhook_kills,
                kill_gap=args.kill_gap, scale=args.scale,
                budget=args.budget, memory_ledger=args.memory_ledger,
            )  # fmt: skip
            report = run_crash_soak(config, keep=args.keep)
            reports.append(report)
            print(json.dumps(report.as_dict(), indent=2), file=out, flush=True)
    command = "python soak/crash_soak.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(markdown(reports, command.strip()), file=out)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([r.as_dict() for r in reports], handle, indent=2)
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
