"""The Redis budget against a real redis-server: what one process spends, the others see."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable

import pytest

from ams_billing import RateLimitedError
from ams_billing.providers.xero.budget import RedisBudget
from ams_billing.providers.xero.pacing import Pacer

BudgetFactory = Callable[..., RedisBudget]


class StuckError(Exception):
    pass


@pytest.fixture
def make_budget(redis_url: str) -> BudgetFactory:
    key = f"test:{uuid.uuid4()}"  # one tenant per test

    def make(**options: object) -> RedisBudget:
        values: dict[str, object] = {
            "per_minute": 3,
            "per_day": 5,
            "concurrent": 2,
            "minute": 60,
            "day": 86_400,
            "slot_timeout": 10,
        }
        values.update(options)
        return RedisBudget(redis_url, key, **values)  # type: ignore[arg-type]

    return make


def test_the_minute_window_is_shared_by_every_process(make_budget: BudgetFactory) -> None:
    one, two = make_budget(), make_budget()
    assert one.try_start() == (0.0, None)
    assert two.try_start() == (0.0, None)
    assert one.try_start() == (0.0, None)
    wait, limit = two.try_start()
    assert limit == "minute"
    assert 55 < wait <= 60
    assert one.remaining() == (0, 2)


def test_the_day_window_wins_over_the_minute(make_budget: BudgetFactory) -> None:
    budget = make_budget(per_minute=10, per_day=2)
    budget.try_start()
    budget.try_start()
    wait, limit = budget.try_start()
    assert limit == "day"
    assert wait > 86_000


def test_spending_lowers_what_every_process_sees(make_budget: BudgetFactory) -> None:
    one, two = make_budget(), make_budget()
    one.spend(2, 4)
    assert two.remaining() == (1, 1)
    one.spend(10, 10)  # more than is left: spends what is left
    assert two.remaining() == (0, 0)


def test_a_pause_reaches_every_process_and_only_grows(make_budget: BudgetFactory) -> None:
    one, two = make_budget(), make_budget()
    assert two.blocked() == (0.0, None)
    one.hold_off(30, "minute")
    wait, limit = two.blocked()
    assert 29 < wait <= 30
    assert limit == "minute"
    two.hold_off(1, "concurrent")
    assert one.blocked()[0] > 29


def test_the_pause_after_a_429_holds_every_pacer(make_budget: BudgetFactory) -> None:
    slept: list[float] = []
    pacers = [
        Pacer(clock=time.monotonic, sleep=slept.append, budget=make_budget(), max_wait=60)
        for _ in range(2)
    ]
    pacers[0].hold_off(120, "day")
    assert pacers[1].blocked()[1] == "day"
    with pytest.raises(RateLimitedError, match="day limit"), pacers[1].slot():
        pass
    assert slept == []


def test_no_more_than_the_concurrent_slots_across_processes(make_budget: BudgetFactory) -> None:
    one, two = make_budget(), make_budget()
    polls: list[float] = []

    def stuck(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) > 3:
            raise StuckError

    waiting = make_budget(sleep=stuck)
    with one.slot(), two.slot():
        with pytest.raises(StuckError), waiting.slot():
            pass
        assert len(polls) == 4
    with waiting.slot():  # both released: a slot is free at once
        pass


def test_a_crashed_process_frees_its_slot_when_the_lock_expires(
    make_budget: BudgetFactory,
) -> None:
    crashed = make_budget(slot_timeout=0.2)
    with contextlib.ExitStack() as never_left:
        for _ in range(2):
            never_left.enter_context(crashed.slot())
        started = time.monotonic()
        with make_budget(slot_timeout=0.2).slot():
            waited = time.monotonic() - started
        assert 0.1 < waited < 2
        never_left.pop_all()  # the "crashed" holders never release their (expired) locks


def test_an_unreachable_redis_is_reported_as_the_provider_unavailable() -> None:
    import socket

    from ams_billing import ProviderUnavailableError
    from ams_billing.providers.xero.budget import RedisBudget

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    budget = RedisBudget(
        f"redis://127.0.0.1:{port}/0", "ams-billing:xero:test", per_minute=60, per_day=5000,
        concurrent=5, minute=61, day=86401, slot_timeout=5,
    )  # fmt: skip
    try:
        with pytest.raises(ProviderUnavailableError, match="AMS_BILLING_RATE_LIMIT_REDIS_URL"):
            budget.try_start()
        with pytest.raises(ProviderUnavailableError), budget.slot():
            pass
    finally:
        budget.close()
