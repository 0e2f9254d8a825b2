"""Where one account's call budget is kept: in this process, or in Redis for every process.

Accounting systems count calls per tenant or account, whichever process made them (Xero per
tenant, Stripe per account), so an AMS running several web and worker processes must share one
budget. A budget has concurrent slots and two windows of call starts, a short and a long one,
named by the provider (Xero: ``minute`` and ``day``; Stripe: ``second`` and ``minute``).
:class:`LocalBudget` keeps it in memory (threads of one process; its clock is injected, so
tests on a virtual clock never really wait).
:class:`RedisBudget` keeps it in Redis through maintained primitives: the ``limits`` library's
moving windows for the minute and day counts, ``redis-py`` locks (with an expiry, so a crashed
process frees its slot) for the concurrent calls, and a key with a time-to-live for a shared
``Retry-After`` pause.

Both count in the seconds of their own clock; :class:`~ams_billing.core.pacing.Pacer` converts
from the provider's seconds (they differ only on an emulator with a sped-up clock). Moved here
from the Xero provider (issue 19): nothing in it is Xero's, and the Stripe provider shares it.
"""

from __future__ import annotations

import contextlib
import functools
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from ams_billing.core.errors import ProviderUnavailableError

if TYPE_CHECKING:
    import redis
    from limits import RateLimitItem
    from limits.strategies import MovingWindowRateLimiter

__all__ = ["Budget", "LocalBudget", "RedisBudget", "Refusal"]

P = ParamSpec("P")
R = TypeVar("R")

Refusal = tuple[float, str | None]
"""Seconds to wait and the limit (``minute``, ``day``, ...) that asks for it; ``(0, None)``: go."""

_SLOT_POLL = 0.01
"""Real seconds between tries for a concurrent slot held by another process."""


class Budget(Protocol):
    """One account's budget: concurrent slots, a short and a long window, a shared pause."""

    def slot(self) -> AbstractContextManager[None]:
        """Hold one of the concurrent slots (waiting for one) while the call is made."""

    def try_start(self) -> Refusal:
        """Count one call start if both windows have room; else say how long until one has."""

    def remaining(self) -> tuple[int, int]:
        """Calls left in the short and the long windows, by this budget's count."""

    def spend(self, minute: int, day: int) -> None:
        """Count calls made elsewhere in the short (``minute``) and long (``day``) windows."""

    def hold_off(self, seconds: float, limit: str | None) -> None:
        """Let no call start anywhere for ``seconds`` (never shortens a longer pause)."""

    def blocked(self) -> Refusal:
        """Seconds until the current pause ends, and the limit that imposed it."""


class LocalBudget:
    """The budget of one process: a semaphore and two sliding windows of call starts.

    :param clock: seconds (monotonic, or a virtual clock); ``minute`` and ``day`` are the
        lengths of the short and the long window in the same seconds, ``per_minute`` and
        ``per_day`` the calls each allows.
    :param names: what the short and the long window are called in a refusal (the ``limit`` of
        a :class:`~ams_billing.core.errors.RateLimitedError`).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        per_minute: int,
        per_day: int,
        concurrent: int,
        minute: float,
        day: float,
        names: tuple[str, str] = ("minute", "day"),
    ) -> None:
        self._clock = clock
        short, long = names
        self._names = names
        self._limits = ((short, per_minute, minute), (long, per_day, day))
        self._starts: dict[str, deque[float]] = {short: deque(), long: deque()}
        self._slots = threading.BoundedSemaphore(concurrent)
        self._lock = threading.Lock()
        self._not_before = 0.0
        self._blocked_limit: str | None = None

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the concurrent slots (a thread waits here for one)."""
        with self._slots:
            yield

    def _prune(self, now: float) -> None:
        for name, _, length in self._limits:
            starts = self._starts[name]
            while starts and now - starts[0] >= length:
                starts.popleft()

    def try_start(self) -> Refusal:
        """Count one call start if both windows have room; else how long until they have."""
        with self._lock:
            now = self._clock()
            self._prune(now)
            for name, limit, length in reversed(self._limits):  # a spent day wins
                starts = self._starts[name]
                if len(starts) >= limit:
                    return starts[-limit] + length - now, name
            for name, _, _ in self._limits:
                self._starts[name].append(now)
            return 0.0, None

    def remaining(self) -> tuple[int, int]:
        """Calls left in the minute and the day windows."""
        with self._lock:
            self._prune(self._clock())
            (_, minute, _), (_, day, _) = self._limits
            short, long = self._names
            return (
                max(0, minute - len(self._starts[short])),
                max(0, day - len(self._starts[long])),
            )

    def spend(self, minute: int, day: int) -> None:
        """Count ``minute``/``day`` calls made elsewhere as started now."""
        with self._lock:
            now = self._clock()
            short, long = self._names
            self._starts[short].extend([now] * max(0, minute))
            self._starts[long].extend([now] * max(0, day))

    def hold_off(self, seconds: float, limit: str | None) -> None:
        """Let no call start for ``seconds``."""
        with self._lock:
            until = self._clock() + seconds
            if until > self._not_before:
                self._not_before = until
                self._blocked_limit = limit

    def blocked(self) -> Refusal:
        """Seconds until the pause ends, and the limit that imposed it."""
        with self._lock:
            wait = self._not_before - self._clock()
            return (wait, self._blocked_limit) if wait > 0 else (0.0, None)


@contextmanager
def _redis_errors() -> Iterator[None]:
    """Report an unreachable Redis as the provider being unavailable, in the one hierarchy."""
    import redis.exceptions  # noqa: PLC0415 - an optional dependency: ams-billing[redis]

    try:
        yield
    except redis.exceptions.RedisError as error:
        raise ProviderUnavailableError(
            "the shared rate-limit budget in Redis cannot be reached "
            f"({type(error).__name__}); check AMS_BILLING_RATE_LIMIT_REDIS_URL"
        ) from None


def _reported(method: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with _redis_errors():
            return method(*args, **kwargs)

    return call


class RedisBudget:
    """A budget every process shares through one Redis server (``limits`` + ``redis-py``).

    Windows are moving windows of whole seconds (what ``limits`` supports): ``minute`` and
    ``day`` are rounded, and at least one second. Times are Redis's callers' wall clocks, so
    the hosts sharing a budget must keep their clocks in sync (NTP).

    :param url: ``redis://``, ``rediss://`` or ``unix://`` URL.
    :param key: what the budget is kept under (one per Xero tenant, per Stripe account).
    :param slot_timeout: real seconds after which a slot held by a process that died frees
        itself; keep it above the longest call (the HTTP timeout).
    :param sleep: how to wait for a slot held elsewhere.
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        per_minute: int,
        per_day: int,
        concurrent: int,
        minute: float,
        day: float,
        slot_timeout: float,
        sleep: Callable[[float], None] = time.sleep,
        names: tuple[str, str] = ("minute", "day"),
    ) -> None:
        import limits  # noqa: PLC0415 - an optional dependency: ams-billing[redis]
        import limits.storage  # noqa: PLC0415
        import limits.strategies  # noqa: PLC0415
        import redis  # noqa: PLC0415

        self._key = key
        self._client: redis.Redis = redis.Redis.from_url(url)
        self._limiter: MovingWindowRateLimiter = limits.strategies.MovingWindowRateLimiter(
            limits.storage.RedisStorage(url)
        )
        self._items: tuple[tuple[str, RateLimitItem], ...] = (
            (names[0], limits.RateLimitItemPerSecond(per_minute, max(1, round(minute)))),
            (names[1], limits.RateLimitItemPerSecond(per_day, max(1, round(day)))),
        )
        self._slot_names = [f"{key}:slot:{i}" for i in range(concurrent)]
        self._slot_timeout = slot_timeout
        self._hold_key = f"{key}:hold-off"
        self._sleep = sleep
        self._random = random.Random()  # noqa: S311 - spreads slot polling, not security

    def __repr__(self) -> str:
        return f"<RedisBudget {self._key}>"

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the tenant's slot locks, trying each in turn without blocking."""
        lock = None
        with _redis_errors():
            lock = self._acquire_slot()
        try:
            yield
        finally:
            import redis.exceptions  # noqa: PLC0415

            # A LockError means it expired: the call outlived slot_timeout.
            with contextlib.suppress(redis.exceptions.RedisError):
                lock.release()

    def _acquire_slot(self) -> Any:
        lock = None
        while lock is None:
            start = self._random.randrange(len(self._slot_names))
            for name in self._slot_names[start:] + self._slot_names[:start]:
                candidate = self._client.lock(name, timeout=self._slot_timeout)
                if candidate.acquire(blocking=False):
                    lock = candidate
                    break
            else:
                self._sleep(_SLOT_POLL * (1 + self._random.random()))
        return lock

    def _wait(self, name: str, item: RateLimitItem) -> Refusal:
        stats = self._limiter.get_window_stats(item, self._key, name)
        return max(stats.reset_time - time.time(), 0.001), name

    @_reported
    def try_start(self) -> Refusal:
        """Count one call start if both windows have room; else how long until they have."""
        (minute_name, minute), (day_name, day) = self._items
        if not self._limiter.test(day, self._key, day_name):
            return self._wait(day_name, day)
        if not self._limiter.hit(minute, self._key, minute_name):
            return self._wait(minute_name, minute)
        self._limiter.hit(day, self._key, day_name)
        return 0.0, None

    @_reported
    def remaining(self) -> tuple[int, int]:
        """Calls left in the minute and the day windows, counted over every process."""
        minute, day = (
            self._limiter.get_window_stats(item, self._key, name).remaining
            for name, item in self._items
        )
        return minute, day

    @_reported
    def spend(self, minute: int, day: int) -> None:
        """Count calls made elsewhere as started now."""
        for (name, item), count in zip(self._items, (minute, day), strict=True):
            left = self._limiter.get_window_stats(item, self._key, name).remaining
            if min(count, left) > 0:
                self._limiter.hit(item, self._key, name, cost=min(count, left))

    @_reported
    def hold_off(self, seconds: float, limit: str | None) -> None:
        """Pause every process for ``seconds``: a key that expires then (only ever extended)."""
        millis = max(1, math.ceil(seconds * 1000))
        pipe = self._client.pipeline()
        pipe.set(self._hold_key, limit or "", px=millis, nx=True)
        pipe.pexpire(self._hold_key, millis, gt=True)
        pipe.execute()

    @_reported
    def blocked(self) -> Refusal:
        """Seconds until the shared pause ends, and the limit that imposed it."""
        pipe = self._client.pipeline()
        pipe.pttl(self._hold_key)
        pipe.get(self._hold_key)
        millis, limit = pipe.execute()
        if not isinstance(millis, int) or millis <= 0:
            return 0.0, None
        name = limit.decode() if isinstance(limit, bytes) else None
        return millis / 1000, name or None

    def close(self) -> None:
        """Close the connections to Redis."""
        self._client.close()
