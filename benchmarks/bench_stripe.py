"""Benchmark 7: Stripe, side by side in one run.

Run: ``python benchmarks/bench_stripe.py [--members 50] [--rate-members 2000] [--workers 4]
[--scale 1] [--ledger-operations 2000]``.

1. **Calls per billed member**, ours against the stripe SDK (16.1.0), one call at a time on
   both sides, each against its own fresh Stripe emulator on 127.0.0.1 with the rate limits
   off (so neither side's count holds a 429 or a retry). A member is: a customer, a one-line
   invoice, finalized, sent. Ours: ``BillingService.create_invoice`` (upserts the customer by
   ``metadata[ams_account]``, builds the draft from its line, finalizes) then
   ``send_invoice``. The SDK: ``customers.create``, ``invoices.create``,
   ``invoice_items.create``, ``invoices.finalize_invoice``, ``invoices.send_invoice``, as
   Stripe's documentation bills a customer (with nothing to find a customer made earlier, or
   a draft a lost answer left). Calls are counted in the emulator's log.
2. **The test-mode limit**: ``--rate-members`` members billed by ``--workers`` separate worker
   processes, each with its own ``StripeProvider`` loaded as an AMS loads it
   (``AMS_BILLING_SERVICE_CLASS=stripe``), sharing one rate-limit budget through a Redis server
   started for the run (``AMS_BILLING_RATE_LIMIT_REDIS_URL``). The emulator enforces Stripe's
   test-mode limits (25 requests a second for the account, 25 per endpoint, 20 for search) on
   a clock ``--scale`` times faster than real time, and the providers' pacers run on the same
   scale (``AMS_BILLING_RATE_LIMIT_TIME_SCALE``). Counted: 429s (any), and the calls per
   emulated second from the first call to the last, against 25. The default scale is 1 (real
   time): the shared budget (``core.budget.RedisBudget``, on ``limits``) keeps windows of
   whole seconds, so Stripe's one-second window scaled down (0.21 s at x5) is rounded up to a
   real second and the run would measure that rounding (a fifth of the limit at x5), not the
   pacing.
3. **The durable ledger's cost** per keyed operation: :mod:`stripe_ledger`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import socket
import subprocess
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

from _common import write_result
from stripe_ledger import ledger_costs

from ams_billing import BillingService, Contact, InvoiceRequest, LineItem, load_service
from ams_billing.emulators.stripe import (
    EmulatorClock,
    RateLimits,
    StripeEmulator,
    StripeEmulatorConfig,
)
from ams_billing.providers.stripe import StripeProvider
from ams_billing.providers.stripe.settings import StripeSettings

LIMIT = 25
"""Stripe's test-mode requests a second for the account (stripe-api.md §7)."""


def request(number: int, prefix: str) -> InvoiceRequest:
    """Member ``number``'s membership invoice: one line, 10.10 USD, due in 30 days."""
    today = date.today()
    return InvoiceRequest(
        contact=Contact(f"{prefix}-{number}", f"Member {prefix} {number}", f"m{number}@x.org"),
        line_items=[LineItem("Annual membership", Decimal(1), Decimal("10.10"))],
        currency="USD",
        issue_date=today,
        due_date=today + timedelta(days=30),
        reference=f"{prefix.upper()}-MEMBERSHIP-{number}",
    )


def _count(emulator: StripeEmulator, members: int, seconds: float) -> dict[str, Any]:
    calls = emulator.calls
    return {
        "members": members,
        "calls": len(calls),
        "per_member": len(calls) / members,
        "by_endpoint": dict(Counter(c.endpoint for c in calls)),
        "status_429": sum(1 for c in calls if c.status == 429),
        "errors": sum(1 for c in calls if (c.status or 0) >= 400),
        "real_seconds": seconds,
    }


def ours_one_at_a_time(members: int) -> dict[str, Any]:
    """Our provider, member by member: ``create_invoice`` then ``send_invoice``."""
    with StripeEmulator(StripeEmulatorConfig(rate_limits=None)) as emulator:
        settings = StripeSettings.from_env(
            {"STRIPE_SECRET_KEY": emulator.secret_key, "STRIPE_API_BASE": emulator.base_url}
        )
        with StripeProvider(settings) as provider:
            service = BillingService(provider)
            started = time.perf_counter()
            sent = 0
            for n in range(members):
                invoice = service.create_invoice(request(n, "ours"), idempotency_key=f"inv:{n}")
                sent += service.send_invoice(invoice, idempotency_key=f"send:{n}").sent
            result = _count(emulator, members, time.perf_counter() - started)
    result["sent"] = sent
    return result


def sdk_one_at_a_time(members: int) -> dict[str, Any]:
    """The stripe SDK, call by call, as its documentation bills a customer."""
    import stripe  # noqa: PLC0415 - only this benchmark needs it

    with StripeEmulator(StripeEmulatorConfig(rate_limits=None)) as emulator:
        client = stripe.StripeClient(
            emulator.secret_key,
            base_addresses={"api": emulator.base_url},
            max_network_retries=0,
        )
        due = int(time.time()) + 30 * 86400
        started = time.perf_counter()
        sent = 0
        for n in range(members):
            customer = client.v1.customers.create(
                params={
                    "name": f"Member sdk {n}",
                    "email": f"m{n}@example.org",
                    "metadata": {"ams_account": f"sdk-{n}"},
                }
            )
            invoice = client.v1.invoices.create(
                params={
                    "customer": customer.id,
                    "collection_method": "send_invoice",
                    "due_date": due,
                    "auto_advance": False,
                    "pending_invoice_items_behavior": "exclude",
                    "currency": "usd",
                }
            )
            client.v1.invoice_items.create(
                params={
                    "customer": customer.id,
                    "invoice": str(invoice.id),
                    "amount": 1010,
                    "currency": "usd",
                    "description": "Annual membership",
                }
            )
            client.v1.invoices.finalize_invoice(str(invoice.id))
            client.v1.invoices.send_invoice(str(invoice.id))
            sent += 1
        result = _count(emulator, members, time.perf_counter() - started)
    result["sent"] = sent
    result["version"] = metadata.version("stripe")
    return result


# -- the test-mode limit, several worker processes ----------------------------------------


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway, non-persistent redis-server on a free loopback port."""
    import redis  # noqa: PLC0415

    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5)
        for _ in range(200):
            try:
                if client.ping():
                    break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait(timeout=10)


def _worker(environ: dict[str, str], index: int, members: int, out: Any) -> None:
    """One worker process: load the service as an AMS does, bill its members one at a time."""
    failures: list[str] = []
    billed = 0
    try:
        with load_service(environ=environ) as service:
            for n in range(members):
                try:
                    invoice = service.create_invoice(
                        request(n, f"w{index}"), idempotency_key=f"inv:w{index}:{n}"
                    )
                    service.send_invoice(invoice, idempotency_key=f"send:w{index}:{n}")
                    billed += 1
                except Exception:  # reported in the result
                    failures.append(traceback.format_exc(limit=2))
    except Exception:  # reported in the result
        failures.append(traceback.format_exc(limit=3))
    out.put((index, billed, failures[:3], len(failures)))


def rate_limited(members: int, workers: int, scale: float) -> dict[str, Any]:
    """``members`` billed by ``workers`` processes sharing one Redis budget; see the docstring."""
    config = StripeEmulatorConfig(rate_limits=RateLimits(), search_indexing_delay=0.0)
    folder = Path(tempfile.mkdtemp(prefix="ams-bench-stripe-"))
    try:
        with (
            redis_server() as redis_url,
            StripeEmulator(config, clock=EmulatorClock.real(scale)) as emulator,
        ):
            environ = {
                "AMS_BILLING_SERVICE_CLASS": "stripe",
                "STRIPE_SECRET_KEY": emulator.secret_key,
                "STRIPE_API_BASE": emulator.base_url,
                "AMS_BILLING_RATE_LIMIT_REDIS_URL": redis_url,
                "AMS_BILLING_RATE_LIMIT_TIME_SCALE": str(scale),
                "AMS_BILLING_DATABASE_URL": f"sqlite:///{folder / 'billing.sqlite3'}",
                "STRIPE_TIMEOUT": "30",
            }
            spawn = multiprocessing.get_context("spawn")
            out = spawn.Queue()
            share = [members // workers + (1 if i < members % workers else 0)
                     for i in range(workers)]  # fmt: skip
            processes = [
                spawn.Process(target=_worker, args=(environ, i, share[i], out))
                for i in range(workers)
            ]
            load_before = list(os.getloadavg())
            started, cpu = time.perf_counter(), time.process_time()
            for process in processes:
                process.start()
            results = [out.get(timeout=3600) for _ in processes]
            for process in processes:
                process.join(timeout=60)
            seconds = time.perf_counter() - started
            calls = emulator.calls
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    span = (calls[-1].at - calls[0].at).total_seconds() if len(calls) > 1 else 0.0
    rate = (len(calls) - 1) / span if span else 0.0
    failures = [text for _, _, found, _ in results for text in found]
    return {
        "members": members,
        "workers": workers,
        "billed": sum(r[1] for r in results),
        "failures": failures,
        "failure_count": sum(r[3] for r in results),
        "limit_per_second": LIMIT,
        "scale": scale,
        "budget": "Redis, shared by the worker processes",
        "calls": len(calls),
        "by_endpoint": dict(Counter(c.endpoint for c in calls)),
        "status_429": sum(1 for c in calls if c.status == 429),
        "emulated_seconds": span,
        "calls_per_second": rate,
        "share_of_limit": rate / LIMIT,
        "real_seconds": seconds,
        "supervisor_cpu_seconds": time.process_time() - cpu,
        "load_before": load_before,
        "load_average_after": list(os.getloadavg()),
    }


def main() -> None:
    """Run the three parts and write ``results/stripe.json``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--rate-members", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--ledger-operations", type=int, default=2000)
    parser.add_argument(
        "--stores", nargs="+", default=["memory", "sqlite", "postgres"], help="ledgers to time"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    load_before = list(os.getloadavg())
    ours = ours_one_at_a_time(args.members)
    sdk = sdk_one_at_a_time(args.members)
    print(f"calls per member: ours {ours['per_member']:.2f}, sdk {sdk['per_member']:.2f}",
          flush=True)  # fmt: skip
    run = rate_limited(args.rate_members, args.workers, args.scale)
    print(f"{run['members']} members, {run['workers']} workers x{run['scale']:g}: "
          f"{run['calls']} calls, {run['status_429']} x 429, {run['calls_per_second']:.2f}/s "
          f"({run['share_of_limit'] * 100:.1f} % of {LIMIT}), {run['real_seconds']:.0f} s real, "
          f"{run['failure_count']} failures", flush=True)  # fmt: skip
    ledger = ledger_costs(args.ledger_operations, args.stores)
    print({k: v for k, v in ledger["stores"].items() if isinstance(v, dict)}, flush=True)
    write_result(
        "stripe",
        {
            "load_average_before": load_before,
            "load_average_after": list(os.getloadavg()),
            "bench_real_seconds": time.perf_counter() - started,
            "calls_per_member": {"members": args.members, "ours": ours, "sdk": sdk},
            "rate_limited": run,
            "ledger": ledger,
        },
    )


if __name__ == "__main__":
    main()
