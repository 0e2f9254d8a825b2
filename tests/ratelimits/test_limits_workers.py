"""Several processes (and several threads) share one tenant's budget over real HTTP.

The emulator runs with Xero's limits on and a clock 30.5 times faster than real time, so each
test spends a few Xero minutes in a few seconds; it refuses with 429 anything over 5 in flight,
60 a minute or 5,000 a day, and logs every call.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from limits_load import Measures, measure, scaled_emulator, settings_fields, worker_main


def _run(fields: dict[str, Any], processes: int, threads: int, calls: int) -> None:
    """Run ``processes`` separate processes of ``threads`` threads each; all must succeed."""
    spawn = multiprocessing.get_context("spawn")
    workers = [
        spawn.Process(target=worker_main, args=(fields, threads, calls)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            worker.join(timeout=60)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
                worker.join(timeout=5)
    assert [worker.exitcode for worker in workers] == [0] * processes


def _check(measures: Measures, calls: int) -> None:
    assert measures.calls == calls
    assert measures.too_many == 0
    assert measures.max_per_minute <= 60
    assert measures.max_in_flight <= 5
    assert measures.per_minute >= 0.8 * 60


def test_processes_sharing_a_redis_budget_never_trip_xero(redis_url: str) -> None:
    with scaled_emulator() as (emulator, base_url, peak):
        _run(settings_fields(emulator, base_url, rate_limit_redis_url=redis_url), 4, 3, 15)
        measures = measure(emulator.calls, peak.peak)
        assert emulator.call_summary().limit_hits == {}
    print(f"\n4 processes x 3 threads, Redis budget: {measures}")
    _check(measures, 4 * 3 * 15)


def test_threads_of_one_process_share_its_memory_budget() -> None:
    with scaled_emulator() as (emulator, base_url, peak):
        _run(settings_fields(emulator, base_url), 1, 12, 15)
        measures = measure(emulator.calls, peak.peak)
        assert emulator.call_summary().limit_hits == {}
    print(f"\n1 process x 12 threads, memory budget: {measures}")
    _check(measures, 12 * 15)
