"""The pacer on a virtual clock: header adjustment, a spent day, one pause for everyone."""

from __future__ import annotations

import random
import threading

import pytest

from ams_billing import RateLimitedError
from ams_billing.emulators.xero import EmulatorConfig, RateLimits
from ams_billing.emulators.xero.harness import XeroTestDriver, in_process_harness
from ams_billing.providers.xero import XeroProvider, pacing
from ams_billing.providers.xero.pacing import Pacer


class VirtualTime:
    """A clock that only moves when something sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def pacer(time: VirtualTime, **options: object) -> Pacer:
    return Pacer(clock=time.clock, sleep=time.sleep, rng=random.Random(1), **options)  # type: ignore[arg-type]


def start(p: Pacer, calls: int = 1) -> None:
    for _ in range(calls):
        with p.slot():
            pass


def test_sixty_calls_go_at_once_and_the_sixty_first_waits_for_the_window() -> None:
    time = VirtualTime()
    p = pacer(time)
    start(p, 60)
    assert time.sleeps == []
    start(p)
    assert time.sleeps == [pytest.approx(61.0)]  # Xero's minute plus a second's guard


def test_fewer_remaining_than_counted_believes_xero() -> None:
    time = VirtualTime()
    p = pacer(time)
    start(p, 5)
    p.observe({"x-minlimit-remaining": "10", "x-daylimit-remaining": "4000"})
    assert p.budget.remaining() == (10, 4000)
    start(p, 10)
    assert time.sleeps == []
    start(p)
    assert len(time.sleeps) == 1


def test_more_remaining_than_counted_changes_nothing() -> None:
    time = VirtualTime()
    p = pacer(time)
    start(p, 30)
    p.observe({"x-minlimit-remaining": "59", "x-daylimit-remaining": "4999"})
    assert p.budget.remaining() == (30, 4970)


def test_a_spent_day_fails_fast_until_the_next_utc_day(monkeypatch: pytest.MonkeyPatch) -> None:
    # The wall clock decides how far the next UTC day is: pin it to mid-afternoon, or this
    # test would wait (rightly) when run in the last minute of a UTC day.
    monkeypatch.setattr(pacing, "_until_next_utc_day", lambda: 9 * 3600.0)
    time = VirtualTime()
    p = pacer(time, max_wait=60.0)
    p.observe({"x-daylimit-remaining": "0"})
    with pytest.raises(RateLimitedError) as raised:
        start(p)
    assert raised.value.limit == "day"
    assert raised.value.retry_after is not None
    assert 0 < raised.value.retry_after <= 86_400
    assert time.sleeps == []


def test_the_day_counted_here_also_fails_fast() -> None:
    time = VirtualTime()
    p = pacer(time, per_day=3, max_wait=60.0)
    start(p, 3)
    with pytest.raises(RateLimitedError) as raised:
        start(p)
    assert raised.value.limit == "day"
    assert time.sleeps == []


def test_a_spent_day_sends_no_request_through_the_provider() -> None:
    harness = in_process_harness(EmulatorConfig(rate_limits=RateLimits(per_day=2)))
    try:
        driver = harness.driver
        assert isinstance(driver, XeroTestDriver)
        provider = harness.service.provider
        assert isinstance(provider, XeroProvider)
        for _ in range(2):  # the second answer says X-DayLimit-Remaining: 0
            provider.http.api("GET", "/Organisation")
        before = len(driver.emulator.calls)
        with pytest.raises(RateLimitedError) as raised:
            provider.http.api("GET", "/Organisation")
        assert raised.value.limit == "day"
        assert len(driver.emulator.calls) == before
    finally:
        harness.close()


def test_a_retry_after_pauses_every_caller_once_and_they_wake_spread() -> None:
    time = VirtualTime()
    p = pacer(time)
    p.hold_off(30, "minute")
    assert p.blocked() == (pytest.approx(30.0), "minute")
    start(p)
    (first,) = time.sleeps
    assert 30 <= first <= 35  # the pause, plus up to 5 s of jitter
    start(p, 4)  # the other callers: the pause is over, nobody waits again
    assert len(time.sleeps) == 1
    assert p.blocked() == (0.0, None)


def test_a_shorter_retry_after_does_not_shorten_a_pause() -> None:
    time = VirtualTime()
    p = pacer(time)
    p.hold_off(30, "minute")
    p.hold_off(5, "concurrent")
    assert p.blocked() == (pytest.approx(30.0), "minute")


def test_threads_paused_together_wake_at_different_times() -> None:
    time = VirtualTime()
    p = Pacer(clock=time.clock, sleep=time.sleep)
    p.hold_off(10, "minute")
    threads = [threading.Thread(target=start, args=(p,)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    assert len(set(time.sleeps)) == len(time.sleeps)  # jittered, not one stampede


def test_a_time_scale_converts_xero_seconds_to_the_clock() -> None:
    time = VirtualTime()
    p = pacer(time, time_scale=60.0)
    start(p, 60)
    start(p)
    assert time.sleeps == [pytest.approx(61 / 60)]
    p.hold_off(30, "minute")
    assert p.blocked()[0] == pytest.approx(30.0)
