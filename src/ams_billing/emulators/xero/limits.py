"""Xero's rate limits: per tenant 5 concurrent / 60 per minute / 5,000 per day, 10,000/min per app.

Windows are fixed: a window opens with the first call after the previous one closed, and
``Retry-After`` is the whole seconds until it closes (none for the concurrent limit). Calls
refused with 429 do not count. ``X-Rate-Limit-Problem`` values are ``concurrent``, ``day``,
``minute`` and ``appminute`` (Xero documents none of them formally; ``minute``/``day`` are
observed, the others [U]).
"""

from __future__ import annotations

import math
import threading

import attrs

from ams_billing.emulators.common.clock import EmulatorClock

from .config import RateLimits

__all__ = ["LimitDecision", "RateLimiter"]

MINUTE = 60.0
DAY = 86_400.0


@attrs.define
class _Window:
    length: float
    start: float = -math.inf
    count: int = 0

    def roll(self, now: float) -> None:
        if now >= self.start + self.length:
            self.start = now
            self.count = 0

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.start + self.length - now))


@attrs.frozen
class LimitDecision:
    """Whether a call may proceed, and the headers to put on its response."""

    allowed: bool
    problem: str | None = None
    retry_after: int | None = None
    headers: tuple[tuple[str, str], ...] = ()


class RateLimiter:
    """Counts calls per tenant and per app; thread-safe."""

    def __init__(self, limits: RateLimits | None, clock: EmulatorClock) -> None:
        self._limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._minute: dict[str, _Window] = {}
        self._day: dict[str, _Window] = {}
        self._app = _Window(MINUTE)
        self._in_flight: dict[str, int] = {}

    @property
    def limits(self) -> RateLimits | None:
        """The configured limits (``None`` when disabled)."""
        return self._limits

    def reset(self) -> None:
        """Forget all counts."""
        with self._lock:
            self._minute.clear()
            self._day.clear()
            self._app = _Window(MINUTE)
            self._in_flight.clear()

    def _headers(self, tenant: str | None) -> tuple[tuple[str, str], ...]:
        limits = self._limits
        assert limits is not None
        headers = []
        if tenant is not None:
            if limits.per_day is not None:
                used = self._day[tenant].count if tenant in self._day else 0
                headers.append(("X-DayLimit-Remaining", str(max(0, limits.per_day - used))))
            if limits.per_minute is not None:
                used = self._minute[tenant].count if tenant in self._minute else 0
                headers.append(("X-MinLimit-Remaining", str(max(0, limits.per_minute - used))))
        if limits.app_per_minute is not None:
            remaining = max(0, limits.app_per_minute - self._app.count)
            headers.append(("X-AppMinLimit-Remaining", str(remaining)))
        return tuple(headers)

    def acquire(self, tenant: str | None) -> LimitDecision:
        """Count one call (``tenant`` ``None`` = tenant-less, e.g. ``/connections``)."""
        limits = self._limits
        if limits is None:
            return LimitDecision(allowed=True)
        now = self._clock.elapsed()
        with self._lock:
            self._app.roll(now)
            checks: list[tuple[str, _Window, int | None]] = []
            if tenant is not None:
                day = self._day.setdefault(tenant, _Window(DAY))
                minute = self._minute.setdefault(tenant, _Window(MINUTE))
                day.roll(now)
                minute.roll(now)
                in_flight = self._in_flight.get(tenant, 0)
                if limits.concurrent is not None and in_flight >= limits.concurrent:
                    return LimitDecision(False, "concurrent", None, self._headers(tenant))
                checks += [("day", day, limits.per_day), ("minute", minute, limits.per_minute)]
            checks.append(("appminute", self._app, limits.app_per_minute))
            for problem, window, limit in checks:
                if limit is not None and window.count >= limit:
                    return LimitDecision(
                        False, problem, window.retry_after(now), self._headers(tenant)
                    )
            for _, window, _limit in checks:
                window.count += 1
            if tenant is not None:
                self._in_flight[tenant] = self._in_flight.get(tenant, 0) + 1
            return LimitDecision(True, headers=self._headers(tenant))

    def release(self, tenant: str | None) -> None:
        """Mark a call admitted by :meth:`acquire` as finished."""
        if self._limits is None or tenant is None:
            return
        with self._lock:
            self._in_flight[tenant] = max(0, self._in_flight.get(tenant, 0) - 1)

    def in_flight(self, tenant: str) -> int:
        """How many of the tenant's calls are being handled right now."""
        with self._lock:
            return self._in_flight.get(tenant, 0)

    def current_headers(self, tenant: str | None) -> tuple[tuple[str, str], ...]:
        """The remaining-count headers as of now (for idempotent replays)."""
        if self._limits is None:
            return ()
        with self._lock:
            return self._headers(tenant)
