"""Benchmark 3: a page of 1,000 Xero invoices (JSON bytes) into models, ours vs xero-python.

Run: ``python benchmarks/bench_parse.py [--invoices 1000] [--repeat 7]``.

The page is what the emulator answers to ``GET /Invoices?page=1&pageSize=1000&unitdp=4`` after
1,000 membership invoices were billed (each with its contact and one line). Both sides start
from the same bytes:

- ours: ``wire.read(bytes, wire.InvoicesEnvelope)`` (the provider's cattrs converter) and then
  ``mapping.to_invoice`` for each, giving the core ``Invoice`` the application receives;
- xero-python: ``ApiClient.deserialize(response, "Invoices", AccountingApi.get_model_finder())``,
  exactly what ``AccountingApi.get_invoices`` does with a response body (``json.loads`` with
  ``Decimal`` floats, then its model deserialiser), giving ``Invoices`` of ``Invoice`` models.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

import httpx
from _common import batch_items, member_requests, spread, write_result

from ams_billing.providers.xero import wire
from ams_billing.providers.xero.emulator import EmulatorConfig
from ams_billing.providers.xero.mapping import to_invoice
from ams_billing.providers.xero.testing import (
    EMULATOR_BASE_URL,
    XeroTestDriver,
    in_process_harness,
)


def page_bytes(count: int) -> bytes:
    """Bill ``count`` members in an in-process emulator (no limits) and return one page."""
    harness = in_process_harness(EmulatorConfig(rate_limits=False))
    try:
        harness.service.create_invoices(batch_items(member_requests(count, prefix="parse")))
        driver = harness.driver
        assert isinstance(driver, XeroTestDriver)
        emulator = driver.emulator
        headers = {
            "Authorization": f"Bearer {emulator.issue_token()}",
            "xero-tenant-id": emulator.config.tenant_id,
            "Accept": "application/json",
        }
        # (emulator.testing.authorised_client would do, but it imports pytest)
        with httpx.Client(
            transport=emulator.transport(), base_url=EMULATOR_BASE_URL, headers=headers
        ) as client:
            response = client.get(
                "/api.xro/2.0/Invoices",
                params={"page": "1", "pageSize": str(count), "unitdp": "4"},
            )
            response.raise_for_status()
            return response.content
    finally:
        harness.close()


def ours(content: bytes) -> list[Any]:
    """Our path: the cattrs converter, then the mapping to core ``Invoice``."""
    envelope = wire.read(content, wire.InvoicesEnvelope)
    return [to_invoice(invoice) for invoice in envelope.invoices]


class _Response:
    """The two attributes of urllib3's response that ``ApiClient.deserialize`` reads."""

    def __init__(self, content: bytes) -> None:
        self.data = content

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def theirs_factory() -> Any:
    """xero-python's path: ``ApiClient.deserialize`` into ``Invoices``."""
    from xero_python.accounting import AccountingApi  # noqa: PLC0415
    from xero_python.api_client import ApiClient  # noqa: PLC0415

    client = ApiClient()
    finder = AccountingApi(client).get_model_finder()

    def theirs(content: bytes) -> Any:
        return client.deserialize(_Response(content), "Invoices", finder)

    return theirs


def _time(function: Any, content: bytes, repeat: int) -> list[float]:
    function(content)  # warm up (imports, caches)
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        function(content)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    """Time both and write ``results/parse.json``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    content = page_bytes(args.invoices)
    parsed = ours(content)
    assert len(parsed) == args.invoices, len(parsed)
    theirs = theirs_factory()
    their_invoices = theirs(content).invoices
    assert len(their_invoices) == args.invoices
    # Same money on both sides (xero-python parses floats as Decimal here).
    assert str(parsed[0].total) == str(their_invoices[0].total), (
        parsed[0].total,
        their_invoices[0].total,
    )
    our_times = _time(ours, content, args.repeat)
    their_times = _time(theirs, content, args.repeat)
    speedup = [t / o for o, t in zip(sorted(our_times), sorted(their_times), strict=True)]
    result = {
        "invoices": args.invoices,
        "page_bytes": len(content),
        "ours_seconds": spread(our_times),
        "xero_python_seconds": spread(their_times),
        "speedup_median": spread(their_times)["median"] / spread(our_times)["median"],
        "speedup_by_rank": speedup,
    }
    print(
        f"{args.invoices} invoices ({len(content) / 1e6:.2f} MB): ours "
        f"{result['ours_seconds']['median'] * 1e3:.1f} ms, xero-python "
        f"{result['xero_python_seconds']['median'] * 1e3:.1f} ms, "
        f"x{result['speedup_median']:.1f}"
    )
    write_result("parse", result)


if __name__ == "__main__":
    main()
