"""Shared helpers for the benchmarks: the machine, medians, result files, emulator wiring.

Every benchmark writes ``benchmarks/results/<name>.json`` through :func:`write_result`;
``benchmarks/render.py`` turns those files into ``BENCHMARKS.md``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

from portable import portable

from ams_billing import BatchItem, BillingService, Contact, InvoiceRequest, LineItem
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    EmulatorServer,
    RateLimits,
    XeroEmulator,
)
from ams_billing.emulators.xero.harness import emulator_settings
from ams_billing.providers.xero import XeroProvider

RESULTS = Path(os.environ.get("AMS_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")
"""Where results go; ``run_all.py --quick`` points it at a scratch directory."""
XERO_MINUTE = 60.0
PER_MINUTE = 60

_PACKAGES = ("ams-billing", "httpx", "cattrs", "attrs", "xero-python", "pyxero", "urllib3",
             "uvicorn", "requests")  # fmt: skip


def machine() -> dict[str, Any]:
    """The machine and the software versions the numbers were measured with."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average_at_start": _AT_START[0],
        "busiest_processes_at_start": _AT_START[1],
        "load_average_at_write": list(os.getloadavg()),
        "packages": versions,
    }


def busiest_processes(count: int = 6) -> list[str]:
    """What else was running: the ``count`` busiest processes over half a second (``top``)."""
    try:
        done = subprocess.run(
            ["top", "-b", "-n", "2", "-d", "0.5", "-o", "%CPU", "-w", "200"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    second = done.stdout.split("\ntop - ")[-1].splitlines()
    header = next((i for i, line in enumerate(second) if line.lstrip().startswith("PID")), None)
    if header is None:
        return []
    busiest = []
    for line in second[header + 1 :]:
        fields = line.split(None, 11)
        if len(fields) == 12 and fields[11] != "top":  # %CPU and COMMAND
            busiest.append(f"{fields[8]}% {fields[11]}")
    return busiest[:count]


_AT_START: tuple[list[float], list[str]] = (list(os.getloadavg()), busiest_processes())
"""The load average and the busiest processes when the benchmark's process started."""


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Median, min, max and every value (rounded for the report)."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": list(values),
    }


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, round(pct / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Write ``results/<name>.json`` with the command line, the machine and a timestamp."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = portable(
        {
            "name": name,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            **data,
        }
    )
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"wrote {path}")
    return path


def minimum_seconds(tenant_calls: int, per_minute: int = PER_MINUTE) -> float:
    """The least Xero time ``tenant_calls`` can take under a fixed 60-a-minute window.

    Windows are fixed and open with their first call (Xero's, and the emulator's), so the
    calls fill ``ceil(n/60)`` windows; the last window opens ``ceil(n/60) - 1`` minutes after
    the first call, and its calls are (ideally) instantaneous::

        T_min(n) = (ceil(n / 60) - 1) * 60 s
    """
    windows = -(-tenant_calls // per_minute)
    return max(0, windows - 1) * XERO_MINUTE


def scaled_emulator(scale: float, *, limits: bool = True, **config: Any) -> XeroEmulator:
    """An emulator with Xero's limits (or none) on a clock ``scale`` times real time."""
    return XeroEmulator(
        EmulatorConfig(rate_limits=RateLimits() if limits else False, **config),
        clock=EmulatorClock.real(scale=scale),
    )


@contextmanager
def served(emulator: XeroEmulator) -> Iterator[str]:
    """Serve ``emulator`` on loopback; yield its base URL."""
    with EmulatorServer(emulator) as server:
        yield server.base_url


def our_service(
    emulator: XeroEmulator, base_url: str, scale: float, **kwargs: Any
) -> BillingService:
    """Our provider over real HTTP to ``base_url``, its pacer on the emulator's scaled clock."""
    settings = emulator_settings(emulator, base_url, rate_limit_time_scale=scale, timeout=30.0)
    return BillingService(XeroProvider(settings), **kwargs)


def member_requests(count: int, prefix: str = "acct") -> list[InvoiceRequest]:
    """``count`` membership invoices for ``count`` distinct members (one line, 10.10 NZD)."""
    return [
        InvoiceRequest(
            contact=Contact(f"{prefix}-{i}", f"Member {prefix} {i}", f"m{i}@example.org"),
            line_items=[LineItem("Annual membership", Decimal(1), Decimal("10.10"))],
            currency="NZD",
            issue_date=date(2026, 7, 1),
            due_date=date(2026, 7, 31),
            reference=f"{prefix}-MEMBERSHIP-{i}",
        )
        for i in range(count)
    ]


def batch_items(requests: Iterable[InvoiceRequest]) -> list[BatchItem[InvoiceRequest]]:
    """Each request keyed by its own reference, as an AMS would key it by its invoice row."""
    return [BatchItem(r, f"invoice:{r.reference}") for r in requests]


def timed(function: Callable[[], object]) -> float:
    """Seconds (wall clock) that ``function()`` took."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def limit_hits(emulator: XeroEmulator) -> int:
    """429 answers the emulator gave."""
    return sum(1 for call in emulator.calls if call.status == 429)
