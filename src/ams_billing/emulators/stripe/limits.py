"""Stripe's test-mode rate limits (§7): per second, account-wide and per endpoint.

Windows are whole seconds of the emulator's clock. A call counts against the account's read
(GET) or write (POST, DELETE) budget, its endpoint's budget and, for search, the search budget;
the first one exhausted refuses it with 429 ``rate_limit`` and
``Stripe-Rate-Limited-Reason`` (``global-rate``, ``endpoint-rate``). Refused calls do not count.
The limiter sits in front of idempotency: a 429 is never stored under a key (§5).
"""

from __future__ import annotations

import math
import threading

import attrs

from .clock import EmulatorClock
from .config import RateLimits

__all__ = ["LimitDecision", "RateLimiter"]


@attrs.frozen
class LimitDecision:
    """Whether a call may proceed, and why not."""

    allowed: bool
    reason: str | None = None


class RateLimiter:
    """Counts calls per one-second window; thread-safe."""

    def __init__(self, limits: RateLimits | None, clock: EmulatorClock) -> None:
        self._limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._second = -math.inf
        self._counts: dict[str, int] = {}

    def reset(self) -> None:
        """Forget all counts."""
        with self._lock:
            self._counts.clear()

    def acquire(self, method: str, endpoint: str, *, search: bool = False) -> LimitDecision:
        """Count one call to ``endpoint`` (``"GET /v1/customers/{id}"``) if it is allowed."""
        limits = self._limits
        if limits is None:
            return LimitDecision(True)
        second = math.floor(self._clock.elapsed())
        read = method.upper() == "GET"
        checks = [
            ("global-rate", "read" if read else "write", limits.read if read else limits.write),
            ("endpoint-rate", "endpoint:" + endpoint, limits.per_endpoint),
        ]
        if search:
            checks.append(("endpoint-rate", "search", limits.search))
        with self._lock:
            if second != self._second:
                self._second = second
                self._counts.clear()
            for reason, bucket, limit in checks:
                if limit is not None and self._counts.get(bucket, 0) >= limit:
                    return LimitDecision(False, reason)
            for _, bucket, _limit in checks:
                self._counts[bucket] = self._counts.get(bucket, 0) + 1
        return LimitDecision(True)
