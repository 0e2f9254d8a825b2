"""Benchmark 3: a page of Xero invoices (JSON bytes) into models, ours vs xero-python.

Run: ``python benchmarks/bench_parse.py [--invoices 100 1000] [--repeat 31]``.

The page is what the emulator answers to ``GET /Invoices?page=1&pageSize=1000&unitdp=4`` after
1,000 membership invoices were billed (each with its contact and one line). Both sides start
from the same bytes:

- ours: ``wire.read(bytes, wire.InvoicesEnvelope)`` (the provider's cattrs converter) and then
  ``mapping.to_invoice`` for each, giving the core ``Invoice`` the application receives;
- xero-python: ``ApiClient.deserialize(response, "Invoices", AccountingApi.get_model_finder())``,
  exactly what ``AccountingApi.get_invoices`` does with a response body (``json.loads`` with
  ``Decimal`` floats, then its model deserialiser), giving ``Invoices`` of ``Invoice`` models;
- before: our path with the wire converter as it was before the generated hooks (a plain
  ``cattrs.Converter`` with ``make_dict_structure_fn`` renames and the same scalar hooks,
  ``json.loads(parse_float=Decimal)``), then the same ``to_invoice``.

The three are timed in turn within each repetition (so load hits them alike), for each page
size, each call's wall time (``perf_counter``) and CPU time (``thread_time``) recorded. On a
loaded machine the wall time includes waiting for a core, so the headline ratio is the median
of the per-round CPU-time ratios; the ratio of the fastest wall times is given beside it.
Then where our time goes: JSON, structuring and mapping timed apart (CPU time), and a
cProfile of our path.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from typing import Any

import httpx
from _common import batch_items, member_requests, spread, write_result

from ams_billing.emulators.xero import EmulatorConfig
from ams_billing.emulators.xero.harness import (
    EMULATOR_BASE_URL,
    XeroTestDriver,
    in_process_harness,
)
from ams_billing.providers.xero import wire
from ams_billing.providers.xero.mapping import to_invoice


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


def before_factory() -> Any:
    """Our path with the generic cattrs converter the provider had before the generated hooks."""
    import json  # noqa: PLC0415
    from datetime import date, datetime  # noqa: PLC0415
    from decimal import Decimal  # noqa: PLC0415

    import attrs  # noqa: PLC0415
    import cattrs  # noqa: PLC0415
    from cattrs.gen import make_dict_structure_fn, override  # noqa: PLC0415

    old = cattrs.Converter()
    old.register_structure_hook(Decimal, wire._decimal)
    old.register_structure_hook(date, wire._date)
    old.register_structure_hook(datetime, wire._datetime)

    def factory(cls: type[Any]) -> Any:
        renames = {a.name: override(rename=wire._wire_name(cls, a)) for a in attrs.fields(cls)}
        return make_dict_structure_fn(cls, old, **renames)  # type: ignore[arg-type]

    old.register_structure_hook_factory(attrs.has, factory)

    def before(content: bytes) -> list[Any]:
        envelope = old.structure(json.loads(content, parse_float=Decimal), wire.InvoicesEnvelope)
        return [to_invoice(invoice) for invoice in envelope.invoices]

    return before


def _interleaved(
    functions: dict[str, Any], content: bytes, repeat: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds of each function, ``repeat`` rounds, the functions in turn."""
    for function in functions.values():
        function(content)  # warm up (imports, caches, generated hooks)
    wall: dict[str, list[float]] = {name: [] for name in functions}
    cpu: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeat):
        for name, function in functions.items():
            gc.collect()
            started, cpu_started = time.perf_counter(), time.thread_time()
            function(content)
            cpu[name].append(time.thread_time() - cpu_started)
            wall[name].append(time.perf_counter() - started)
    return wall, cpu


def _parts(content: bytes, repeat: int) -> dict[str, Any]:
    """Our path in three steps, timed apart: JSON, structuring, mapping."""
    data = wire.loads(content)
    envelope = wire.structure(data, wire.InvoicesEnvelope)
    steps = {
        "json_loads_decimal": lambda _: wire.loads(content),
        "structure": lambda _: wire.structure(data, wire.InvoicesEnvelope),
        "to_invoice": lambda _: [to_invoice(invoice) for invoice in envelope.invoices],
    }
    _, cpu = _interleaved(steps, b"", repeat)
    return {name: spread(values) for name, values in cpu.items()}


def _profile(content: bytes) -> list[str]:
    import cProfile  # noqa: PLC0415
    import io  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        ours(content)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    return [line for line in out.getvalue().splitlines() if line.strip()][-13:]


def measure(count: int, repeat: int) -> dict[str, Any]:
    """Time the three paths on a page of ``count`` invoices."""
    content = page_bytes(count)
    parsed = ours(content)
    assert len(parsed) == count, len(parsed)
    theirs = theirs_factory()
    before = before_factory()
    their_invoices = theirs(content).invoices
    assert len(their_invoices) == count
    assert before(content) == parsed
    # Same money on both sides (xero-python parses floats as Decimal here).
    assert str(parsed[0].total) == str(their_invoices[0].total), (
        parsed[0].total,
        their_invoices[0].total,
    )
    wall, cpu = _interleaved(
        {"ours": ours, "xero_python": theirs, "before": before}, content, repeat
    )

    def ratios(slow: str, fast: str) -> dict[str, Any]:
        """Per-round CPU-time ratios, and the ratio of the fastest wall times."""
        per_round = [s / f for f, s in zip(cpu[fast], cpu[slow], strict=True)]
        return {"cpu_per_round": spread(per_round), "wall_min": min(wall[slow]) / min(wall[fast])}

    result = {
        "invoices": count,
        "page_bytes": len(content),
        "wall_seconds": {name: spread(values) for name, values in wall.items()},
        "cpu_seconds": {name: spread(values) for name, values in cpu.items()},
        "speedup_vs_xero_python": ratios("xero_python", "ours"),
        "before_speedup_vs_xero_python": ratios("xero_python", "before"),
        "speedup_vs_before": ratios("before", "ours"),
        "ours_parts_seconds": _parts(content, repeat),
        "ours_profile_top": _profile(content),
    }
    now, then = result["speedup_vs_xero_python"], result["before_speedup_vs_xero_python"]
    print(
        f"{count} invoices ({len(content) / 1e6:.2f} MB), CPU ms (median): ours "
        f"{result['cpu_seconds']['ours']['median'] * 1e3:.2f}, xero-python "
        f"{result['cpu_seconds']['xero_python']['median'] * 1e3:.2f}, before "
        f"{result['cpu_seconds']['before']['median'] * 1e3:.2f}; vs xero-python "
        f"x{now['cpu_per_round']['median']:.2f} (fastest walls x{now['wall_min']:.2f}), "
        f"before x{then['cpu_per_round']['median']:.2f} (x{then['wall_min']:.2f})"
    )
    return result


def main() -> None:
    """Time the paths at each page size and write ``results/parse.json``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=31)
    args = parser.parse_args()
    load_before = os.getloadavg()
    pages = [measure(count, args.repeat) for count in args.invoices]
    write_result(
        "parse",
        {
            "load_average_before": list(load_before),
            "load_average_after": list(os.getloadavg()),
            "pages": pages,
        },
    )


if __name__ == "__main__":
    main()
