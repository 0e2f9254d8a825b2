"""Client-side pacing: spend a tenant's Xero budget fully without ever tripping it.

Xero allows each tenant 5 concurrent calls, 60 a minute and 5,000 a day (some apps 1,000).
Calling until Xero answers 429 works, but each 429 costs a round trip and can stall for a
minute; the :class:`Pacer` keeps calls inside the limits in the first place:

- a call holds one of 5 slots while it is in flight, and starts only when the minute and day
  windows of call starts have room (windows one second longer than Xero's, as Xero counts
  calls when they arrive, a little after we count them);
- ``X-MinLimit-Remaining`` / ``X-DayLimit-Remaining`` lower our counts when Xero says fewer
  calls remain (another app or process spent them), and a day spent to 0 makes every call
  fail at once with :class:`~ams_billing.core.errors.RateLimitedError` until the next UTC day;
- a 429's ``Retry-After`` pauses every caller sharing the budget, once; they wake spread over a
  few seconds rather than all together.

The budget is this process's (:class:`~ams_billing.core.budget.LocalBudget`) or, with
``AMS_BILLING_RATE_LIMIT_REDIS_URL``, shared by every process through Redis
(:class:`~ams_billing.core.budget.RedisBudget`). The clock and the sleep are injected, so tests
never really wait. The waiting itself is the provider-neutral
:class:`ams_billing.core.pacing.Pacer`; this subclass adds Xero's limits and headers.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ams_billing.core import pacing
from ams_billing.core.budget import Budget, LocalBudget, RedisBudget

if TYPE_CHECKING:
    from ams_billing.providers.xero.settings import XeroSettings

__all__ = ["CONCURRENT", "DAY", "MINUTE", "PER_DAY", "PER_MINUTE", "Pacer"]

MINUTE = 60.0
DAY = 86_400.0
CONCURRENT = 5
PER_MINUTE = 60
PER_DAY = 5000

_GUARD = 1.0
"""Xero seconds added to each window: calls arrive at Xero a little after we count them."""

_DAY_WARNING = 100

logger = logging.getLogger("ams_billing.xero")


class Pacer(pacing.Pacer):
    """Admits calls within ``concurrent`` in flight and ``per_minute``/``per_day`` windows.

    Waits and pauses are given and reported in Xero's seconds; the clock and the sleep run
    ``time_scale`` times faster than Xero's (1 but for tests and benchmarks on an emulator whose
    clock is sped up).

    :param clock: monotonic seconds (``time.monotonic``, or an emulator's virtual clock).
    :param sleep: how to wait that many seconds (``time.sleep``, or advancing a virtual clock).
    :param budget: where the counts live; a new :class:`LocalBudget` on ``clock`` by default.
    :param max_wait: a wait longer than this (Xero seconds) raises
        :class:`~ams_billing.core.errors.RateLimitedError` at once instead.
    :param rng: source of the wake-up jitter (seed it for repeatable tests).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        per_minute: int = PER_MINUTE,
        per_day: int = PER_DAY,
        concurrent: int = CONCURRENT,
        budget: Budget | None = None,
        time_scale: float = 1.0,
        max_wait: float = math.inf,
        rng: random.Random | None = None,
    ) -> None:
        self.per_minute = per_minute
        super().__init__(
            budget=budget
            or LocalBudget(
                clock=clock,
                per_minute=per_minute,
                per_day=per_day,
                concurrent=concurrent,
                minute=(MINUTE + _GUARD) / time_scale,
                day=(DAY + _GUARD) / time_scale,
            ),
            sleep=sleep,
            system="Xero",
            time_scale=time_scale,
            max_wait=max_wait,
            patient="minute",  # a minute window turns soon enough to wait for, always
            rng=rng,
        )
        self.day_remaining: int | None = None

    @classmethod
    def for_settings(
        cls,
        settings: XeroSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Pacer:
        """The pacer ``settings`` ask for: Redis-shared with a ``rate_limit_redis_url``."""
        scale = settings.rate_limit_time_scale
        budget: Budget | None = None
        if settings.rate_limit_redis_url:
            budget = RedisBudget(
                settings.rate_limit_redis_url,
                f"ams-billing:xero:{settings.tenant_id or settings.client_id}",
                per_minute=PER_MINUTE,
                per_day=PER_DAY,
                concurrent=CONCURRENT,
                minute=(MINUTE + _GUARD) / scale,
                day=(DAY + _GUARD) / scale,
                slot_timeout=settings.timeout + 5,
                sleep=sleep,
            )
        return cls(
            clock=clock,
            sleep=sleep,
            budget=budget,
            time_scale=scale,
            max_wait=settings.max_retry_wait,
        )

    def observe(self, headers: Mapping[str, str]) -> None:
        """Believe ``X-MinLimit-Remaining``/``X-DayLimit-Remaining`` when below our count."""
        minute = _int(headers.get("x-minlimit-remaining"))
        day = _int(headers.get("x-daylimit-remaining"))
        if minute is None and day is None:
            return
        ours_minute, ours_day = self.budget.remaining()
        extra_minute = ours_minute - minute if minute is not None else 0
        extra_day = ours_day - day if day is not None else 0
        if extra_minute > 0 or extra_day > 0:
            self.budget.spend(max(0, extra_minute), max(0, extra_day))
        if day is not None:
            self.day_remaining = day
            if day <= 0:
                self.hold_off(_until_next_utc_day(), "day")
            elif day <= _DAY_WARNING:
                logger.warning(
                    "Xero's daily call limit for this tenant is nearly spent: %d left", day
                )


def _until_next_utc_day() -> float:
    """Xero's day windows are its own, per tenant; the next UTC day is the estimate."""
    now = datetime.now(UTC)
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (tomorrow - now).total_seconds()


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
