"""Benchmark 5: the framework's own cost per operation, against a bare httpx call.

Run: ``python benchmarks/bench_overhead.py [--calls 2000] [--repeat 5]``.

Both sides talk to the same in-process emulator (its httpx transport, limits off, so the
emulator's own work is identical) and read one invoice by id:

- ours: ``BillingService.get_invoices([id])`` — the pluggy hook call, the pacer's slot (on the
  emulator's virtual clock: it never really sleeps), the token cache, retries and error
  mapping, the request, ``wire.read`` and the mapping to a core ``Invoice``;
- bare: ``httpx.Client.get`` of the very URL, query and headers ours sent (copied from the
  recorded request), the body left as bytes; and the same with ``json.loads`` of the body.

The overhead is the difference of the medians, per operation.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from typing import Any

import httpx
from _common import batch_items, member_requests, spread, write_result

from ams_billing import BillingService
from ams_billing.emulators.xero import EmulatorConfig
from ams_billing.emulators.xero.harness import EMULATOR_BASE_URL, XeroTestDriver, in_process_harness
from ams_billing.providers.xero import XeroProvider


def _per_call(function: Any, calls: int) -> float:
    gc.collect()
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - started) / calls


def main() -> None:
    """Time ours and bare, interleaved, and write ``results/overhead.json``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    harness = in_process_harness(EmulatorConfig(rate_limits=False))
    driver = harness.driver
    assert isinstance(driver, XeroTestDriver)
    emulator = driver.emulator
    service = harness.service
    [created] = service.create_invoices(batch_items(member_requests(1, prefix="overhead")))
    invoice_id = created.unwrap().provider_id
    driver.transport.clear_requests()
    [invoice] = service.get_invoices([invoice_id])
    [recorded] = driver.transport.api_requests()
    headers = {k: v for k, v in recorded.headers.items() if k not in ("host", "content-length")}
    headers["authorization"] = f"Bearer {emulator.issue_token()}"
    bare_client = httpx.Client(transport=emulator.transport(), base_url=EMULATOR_BASE_URL)
    url, params = recorded.path, dict(recorded.query)
    check = bare_client.get(url, params=params, headers=headers)
    assert check.status_code == 200, check.text
    assert invoice.provider_id == invoice_id

    # Measured without the harness's recording transport: the provider on the bare emulator.
    provider = harness.service.provider
    assert isinstance(provider, XeroProvider)

    def fresh() -> BillingService:
        # One per run: the pacer's day budget (5,000) must not run out on the virtual clock.
        return BillingService(
            XeroProvider(
                provider.settings,
                transport=emulator.transport(),
                clock=emulator.clock.elapsed,
                sleep=emulator.clock.sleep,
            )
        )

    fast = fresh()

    def ours() -> None:
        fast.get_invoices([invoice_id])

    def bare() -> None:
        bare_client.get(url, params=params, headers=headers).read()

    def bare_json() -> None:
        json.loads(bare_client.get(url, params=params, headers=headers).content)

    for function in (ours, bare, bare_json):  # warm up
        _per_call(function, 200)
    times: dict[str, list[float]] = {"ours": [], "bare": [], "bare_json": []}
    for _ in range(args.repeat):
        fast = fresh()
        fast.get_invoices([invoice_id])  # its token
        times["ours"].append(_per_call(ours, args.calls))
        times["bare"].append(_per_call(bare, args.calls))
        times["bare_json"].append(_per_call(bare_json, args.calls))
    harness.close()
    bare_client.close()
    stats = {name: spread(values) for name, values in times.items()}
    overhead = stats["ours"]["median"] - stats["bare"]["median"]
    result: dict[str, Any] = {
        "operation": "get_invoices([one id]) vs GET " + url,
        "calls_per_run": args.calls,
        "seconds_per_call": stats,
        "overhead_seconds": overhead,
        "overhead_vs_bare_json_seconds": stats["ours"]["median"] - stats["bare_json"]["median"],
    }
    print(
        f"ours {stats['ours']['median'] * 1e6:.0f} us, bare {stats['bare']['median'] * 1e6:.0f} "
        f"us, bare+json {stats['bare_json']['median'] * 1e6:.0f} us: overhead "
        f"{overhead * 1e6:.0f} us per operation"
    )
    write_result("overhead", result)


if __name__ == "__main__":
    main()
