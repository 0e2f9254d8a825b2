"""Client-side pacing: stay inside Xero's 5 concurrent and 60-a-minute calls per tenant.

Calling until Xero answers 429 works, but each 429 still costs a round trip and can stall
for a whole minute; pacing keeps the process under the limits in the first place. The pacer
keeps a sliding window of its own call starts, honours ``X-MinLimit-Remaining`` (another
process may share the tenant's quota: when Xero says none is left, wait for the window to
turn) and any ``Retry-After`` that a 429 imposed on everyone. The clock and the sleep are
injected, so tests never really wait.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

__all__ = ["MINUTE", "Pacer"]

MINUTE = 60.0
_DAY_WARNING = 100

logger = logging.getLogger("ams.billing.xero")


class Pacer:
    """Admits calls at most ``concurrent`` at a time and ``per_minute`` per sliding minute.

    :param clock: monotonic seconds (``time.monotonic``, or an emulator's virtual clock).
    :param sleep: how to wait that many seconds (``time.sleep``, or advancing a virtual clock).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        per_minute: int = 60,
        concurrent: int = 5,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(concurrent)
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()
        self._not_before = 0.0
        self._blocked_limit: str | None = None
        self.day_remaining: int | None = None

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the concurrent slots, after waiting for the minute window to allow it."""
        with self._slots:
            self._wait_for_turn()
            yield

    def _wait_for_turn(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and now - self._starts[0] >= MINUTE:
                    self._starts.popleft()
                wait = self._not_before - now
                if len(self._starts) >= self.per_minute:
                    wait = max(wait, self._starts[0] + MINUTE - now)
                if wait <= 0:
                    self._starts.append(now)
                    return
            logger.debug("pacing: waiting %.1f s to stay within Xero's rate limits", wait)
            self._sleep(wait)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn from a response's ``X-MinLimit-Remaining`` and ``X-DayLimit-Remaining``."""
        minute = _int(headers.get("x-minlimit-remaining"))
        day = _int(headers.get("x-daylimit-remaining"))
        with self._lock:
            if minute is not None and minute <= 0:
                now = self._clock()
                turn = self._starts[0] + MINUTE if self._starts else now + MINUTE
                self._not_before = max(self._not_before, turn)
            if day is not None:
                self.day_remaining = day
        if day is not None and day <= _DAY_WARNING:
            logger.warning("Xero's daily call limit for this tenant is nearly spent: %d left", day)

    def hold_off(self, seconds: float, limit: str | None = None) -> None:
        """Let no call start for ``seconds`` (a 429's ``Retry-After`` applies to every thread)."""
        with self._lock:
            until = self._clock() + seconds
            if until > self._not_before:
                self._not_before = until
                self._blocked_limit = limit

    def blocked(self) -> tuple[float, str | None]:
        """Seconds until calls may start again, and the limit that imposed the wait."""
        with self._lock:
            return max(0.0, self._not_before - self._clock()), self._blocked_limit


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
