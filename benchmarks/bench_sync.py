"""Benchmark 2: status sync of 10,000 invoices, by change (If-Modified-Since) and by ids.

Run: ``python benchmarks/bench_sync.py [--invoices 10000] [--scale 60] [--repeat 3]``.

The emulator (Xero's limits on, clock ``--scale`` times real time, served on 127.0.0.1) is
seeded once by billing ``--invoices`` members through our provider (bulk, in-process, paced).
Each measured sync uses a fresh provider (so it mints its own token, as a new process would)
over loopback and counts the emulator's calls:

- ``changed_since``: ``BillingService.get_invoices_changed_since`` as shipped (pages of
  ``invoices.PAGE_SIZE`` = 100);
- ``changed_since_page_1000``: the same with ``PAGE_SIZE`` set to 1000 (Xero's largest page),
  to show what the one-constant change would give;
- ``by_ids``: ``BillingService.get_invoices(all ids)`` (50 ids a request).

Between syncs the benchmark waits one Xero minute so that each starts with a fresh window.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from typing import Any

from _common import (
    batch_items,
    limit_hits,
    member_requests,
    minimum_seconds,
    scaled_emulator,
    served,
    spread,
    write_result,
)

from ams_billing import BillingService
from ams_billing.emulators.xero import XeroEmulator
from ams_billing.emulators.xero.harness import EMULATOR_BASE_URL, emulator_settings
from ams_billing.providers.xero import XeroProvider
from ams_billing.providers.xero import invoices as xero_invoices


def seed(emulator: XeroEmulator, count: int, scale: float) -> list[str]:
    """Bill ``count`` members in-process (paced on the scaled clock); return the invoice ids."""
    settings = emulator_settings(emulator, EMULATOR_BASE_URL, rate_limit_time_scale=scale)
    with XeroProvider(settings, transport=emulator.transport()) as provider:
        service = BillingService(provider)
        results = service.create_invoices(batch_items(member_requests(count, prefix="sync")))
        return [r.unwrap().provider_id for r in results]


def _measure(emulator: XeroEmulator, base_url: str, scale: float, run: Any) -> dict[str, Any]:
    time.sleep(61 / scale)  # a fresh minute window
    before = len(emulator.calls)
    settings = emulator_settings(emulator, base_url, rate_limit_time_scale=scale, timeout=60.0)
    with XeroProvider(settings) as provider:
        service = BillingService(provider)
        started = time.perf_counter()
        found = run(service)
        seconds = time.perf_counter() - started
    calls = emulator.calls[before:]
    tenant = sum(1 for c in calls if c.tenant_id is not None and c.status != 429)
    return {
        "invoices_read": len(found),
        "calls": len(calls),
        "tenant_calls": tenant,
        "status_429": sum(1 for c in calls if c.status == 429),
        "real_seconds": seconds,
        "xero_seconds": seconds * scale,
        "minimum_xero_seconds": minimum_seconds(tenant),
    }


def main() -> None:
    """Seed, sync three ways, write ``results/sync.json``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    emulator = scaled_emulator(args.scale)
    since = emulator.clock.now() - timedelta(minutes=1)
    started = time.perf_counter()
    ids = seed(emulator, args.invoices, args.scale)
    seeding = time.perf_counter() - started
    print(f"seeded {len(ids)} invoices in {seeding:.1f} s real")
    shipped_page = xero_invoices.PAGE_SIZE
    runs: dict[str, list[dict[str, Any]]] = {
        "changed_since": [],
        "changed_since_page_1000": [],
        "by_ids": [],
    }
    with served(emulator) as base_url:
        for _ in range(args.repeat):
            for name in runs:  # noqa: PLC0206 - appends to runs[name]
                xero_invoices.PAGE_SIZE = 1000 if name.endswith("1000") else shipped_page
                if name == "by_ids":
                    result = _measure(emulator, base_url, args.scale, lambda s: s.get_invoices(ids))
                else:
                    result = _measure(
                        emulator,
                        base_url,
                        args.scale,
                        lambda s: s.get_invoices_changed_since(since),
                    )
                assert result["invoices_read"] == len(ids), (name, result["invoices_read"])
                runs[name].append(result)
                print(
                    f"{name}: {result['calls']} calls, {result['status_429']} x 429, "
                    f"{result['real_seconds']:.1f} s real = "
                    f"{result['xero_seconds'] / 60:.2f} Xero min"
                )
        xero_invoices.PAGE_SIZE = shipped_page
    write_result(
        "sync",
        {
            "invoices": args.invoices,
            "scale": args.scale,
            "shipped_page_size": shipped_page,
            "seeding_real_seconds": seeding,
            "limit_hits_total": limit_hits(emulator),
            "runs": runs,
            "stats": {
                name: {
                    "calls": spread([float(r["calls"]) for r in values]),
                    "real_seconds": spread([r["real_seconds"] for r in values]),
                    "xero_seconds": spread([r["xero_seconds"] for r in values]),
                }
                for name, values in runs.items()
            },
        },
    )


if __name__ == "__main__":
    main()
