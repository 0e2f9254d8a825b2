"""Load for the multi-worker tests: an emulator on a sped-up clock, and callers hammering it."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import attrs

from ams_billing.emulators.xero import EmulatorClock, EmulatorConfig, XeroEmulator
from ams_billing.emulators.xero.calllog import CallRecord
from ams_billing.emulators.xero.harness import emulator_settings
from ams_billing.emulators.xero.server import EmulatorServer
from ams_billing.providers.xero import XeroProvider
from ams_billing.providers.xero.settings import XeroSettings

SCALE = 30.5
"""A Xero minute passes in 1.97 s; the limiter's (61 s) window in exactly 2 s of real time.

(The limiter's one-second guard is then 33 ms of real time. At a load average of 7 to 9 on
2 cores, calls have arrived later than that after the pacer let them go: see ARRIVAL_JITTER.)
"""
ARRIVAL_JITTER = timedelta(seconds=3)
"""How late (emulated time) a paced call may arrive at the emulator on a loaded machine."""

WORK = 0.03
"""Real seconds the emulator spends on each admitted call (0.9 Xero seconds)."""


@attrs.frozen
class Measures:
    """What the emulator saw of the tenant's calls."""

    calls: int
    too_many: int
    max_per_minute: int
    max_in_flight: int
    per_minute: float  # throughput; 60 is Xero's limit

    def __str__(self) -> str:
        return (
            f"{self.calls} calls, {self.too_many} x 429, at most {self.max_per_minute} in any "
            f"minute, at most {self.max_in_flight} in flight, {self.per_minute:.1f} calls/min "
            f"({self.per_minute / 60:.0%} of the limit)"
        )


class _PeakInFlight:
    """Wraps the emulator's limiter to remember the most calls it ever had in flight."""

    def __init__(self, emulator: XeroEmulator) -> None:
        self.peak = 0
        self._lock = threading.Lock()
        limiter = emulator._limiter  # where the emulator counts in-flight calls
        acquire = limiter.acquire

        def counting(tenant: str | None) -> Any:
            decision = acquire(tenant)
            if decision.allowed and tenant is not None:
                with self._lock:
                    self.peak = max(self.peak, limiter.in_flight(tenant))
                time.sleep(WORK)  # still counted in flight: calls overlap as Xero's do
            return decision

        limiter.acquire = counting  # type: ignore[method-assign]


@contextmanager
def scaled_emulator() -> Iterator[tuple[XeroEmulator, str, _PeakInFlight]]:
    """An emulator with Xero's limits on, its clock SCALE times real time, served on loopback."""
    emulator = XeroEmulator(EmulatorConfig(), clock=EmulatorClock.real(scale=SCALE))
    peak = _PeakInFlight(emulator)
    with EmulatorServer(emulator) as server:
        yield emulator, server.base_url, peak


def settings_fields(emulator: XeroEmulator, base_url: str, **extra: Any) -> dict[str, Any]:
    """Plain (picklable) settings for a worker process."""
    settings = emulator_settings(emulator, base_url)
    return {
        "client_id": settings.client_id,
        "client_secret": settings.client_secret.reveal(),
        "webhook_key": settings.webhook_key.reveal(),
        "tenant_id": settings.tenant_id,
        "account_code": settings.account_code,
        "currency_code": settings.currency_code,
        "api_url": base_url,
        "identity_url": base_url,
        "timeout": 10.0,
        "rate_limit_time_scale": SCALE,
        **extra,
    }


def hammer(fields: dict[str, Any], threads: int, calls: int) -> list[str]:
    """``threads`` threads of one service make ``calls`` calls each; return the failures."""
    failures: list[str] = []
    with XeroProvider(XeroSettings(**fields)) as service:

        def run() -> None:
            for _ in range(calls):
                try:
                    service.http.api("GET", "/Organisation")
                except Exception:  # reported to the test
                    failures.append(traceback.format_exc(limit=3))

        workers = [threading.Thread(target=run) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    return failures


def worker_main(fields: dict[str, Any], threads: int, calls: int) -> None:
    """A separate process: exits 1 (tracebacks on stderr) if any call failed."""
    failures = hammer(fields, threads, calls)
    if failures:
        raise SystemExit("".join(failures[:3]))


def measure(records: list[CallRecord], peak: int) -> Measures:
    """Count the tenant's calls, its 429s and the busiest minute (a sliding window)."""
    tenant = [r for r in records if r.tenant_id is not None]
    done = sorted(r.at for r in tenant if r.status == 200)
    # The pacer admits a call when it is sent; the log stamps it when it arrives. A call that
    # arrives late (a busy machine: ~0.1 s at SCALE is 3 emulated seconds) and a later one that
    # arrives at once squeeze 61 calls paced a minute apart into 60 s of arrivals. The busiest
    # window is therefore counted over ARRIVAL_JITTER less than a minute.
    minute = timedelta(minutes=1) - ARRIVAL_JITTER
    busiest, start = 0, 0
    for end, at in enumerate(done):
        while at - done[start] >= minute:
            start += 1
        busiest = max(busiest, end - start + 1)
    # The run lasts until its last 60 calls leave the minute window: n calls at Xero's limit
    # take (n - 60)/60 minutes to start the last 60, plus the minute those hold.
    last_sixty = done[max(0, len(done) - 60)] if done else None
    span = (last_sixty - done[0]).total_seconds() / 60 if last_sixty else 0.0
    rate = len(done) / (span + 1)
    return Measures(
        calls=len(tenant),
        too_many=sum(r.status == 429 for r in tenant),
        max_per_minute=busiest,
        max_in_flight=peak,
        per_minute=rate,
    )
