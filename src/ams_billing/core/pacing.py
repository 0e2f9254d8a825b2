"""Client-side pacing over a :class:`~ams_billing.core.budget.Budget`: never trip a rate limit.

Calling until the system answers 429 works, but each 429 costs a round trip and may stall
every caller; a :class:`Pacer` keeps calls inside the limits in the first place:

- a call holds one of the budget's concurrent slots while it is in flight, and starts only when
  the budget's windows of call starts have room;
- a pause (:meth:`Pacer.hold_off`, after a 429) stops every caller sharing the budget, once;
  they wake spread over a few seconds rather than all together;
- a wait longer than ``max_wait`` raises :class:`~ams_billing.core.errors.RateLimitedError` at
  once, with ``retry_after``, instead of blocking the caller.

Moved here from the Xero provider (issue 19), which keeps its limits and header reading in
:class:`ams_billing.providers.xero.pacing.Pacer`; the Stripe provider paces with the same class.
The clock and the sleep are the budget's and the caller's, so tests never really wait.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ams_billing.core.budget import Budget
from ams_billing.core.errors import RateLimitedError

__all__ = ["MIN_WAIT", "WAKE_SPREAD", "Pacer"]

WAKE_SPREAD = 5.0
"""The system's seconds over which callers paused by a ``Retry-After`` wake (no stampede)."""

MIN_WAIT = 0.001
"""The shortest wait the pacer sleeps, in the system's seconds."""

logger = logging.getLogger("ams_billing.pacing")


class Pacer:
    """Admits calls within ``budget``'s slots and windows; waits in the system's seconds.

    :param budget: where the counts live (this process's, or Redis's for every process).
    :param sleep: how to wait that many (budget) seconds (``time.sleep``, or a virtual clock's).
    :param system: names the system in messages (``Xero``, ``Stripe``).
    :param time_scale: how many times faster than the system's the budget's clock runs (1 but
        for tests and benchmarks on an emulator whose clock is sped up).
    :param max_wait: a wait longer than this (the system's seconds) raises
        :class:`~ams_billing.core.errors.RateLimitedError` at once instead.
    :param patient: the window that is always waited for, however long (it turns soon).
    :param rng: source of the wake-up jitter (seed it for repeatable tests).
    """

    def __init__(
        self,
        *,
        budget: Budget,
        sleep: Callable[[float], None],
        system: str,
        time_scale: float = 1.0,
        max_wait: float = math.inf,
        patient: str | None = None,
        wake_spread: float = WAKE_SPREAD,
        rng: random.Random | None = None,
    ) -> None:
        self.budget = budget
        self.system = system
        self.time_scale = time_scale
        self.max_wait = max_wait
        self._patient = patient
        self._wake_spread = wake_spread
        self._sleep = sleep
        self._random = rng or random.Random()  # noqa: S311 - jitter, not security

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the concurrent slots, after waiting for the windows to allow the call.

        :raises RateLimitedError: when the wait would be longer than ``max_wait``.
        """
        with self.budget.slot():
            self._wait_for_turn()
            yield

    def _wait_for_turn(self) -> None:
        while True:
            paused, limit = self.budget.blocked()
            if paused > 0:
                self._check(paused, limit)
                spread = self._random.uniform(0, self._wake_spread / self.time_scale)
                self._sleep(paused + spread)
                continue
            wait, limit = self.budget.try_start()
            if wait <= 0:
                return
            if limit != self._patient:
                self._check(wait, limit)
            logger.debug(
                "pacing: waiting %.3f s to stay within %s's %s limit", wait, self.system, limit
            )
            # A wait of a few picoseconds (float rounding at the window's edge) would not move a
            # virtual clock at all and the loop would spin; a millisecond always does.
            self._sleep(max(wait, MIN_WAIT / self.time_scale))

    def _check(self, wait: float, limit: str | None) -> None:
        seconds = wait * self.time_scale
        if seconds > self.max_wait:
            raise RateLimitedError(
                f"{self.system}'s {limit or 'rate'} limit is spent for another {seconds:.0f} s; "
                "try again later",
                retry_after=seconds,
                limit=limit,
            )

    def hold_off(self, seconds: float, limit: str | None = None) -> None:
        """Let no call start for ``seconds`` (a 429's ``Retry-After`` applies to every caller)."""
        self.budget.hold_off(seconds / self.time_scale, limit)

    def blocked(self) -> tuple[float, str | None]:
        """Seconds until calls may start again, and the limit that imposed the wait."""
        wait, limit = self.budget.blocked()
        return wait * self.time_scale, limit
