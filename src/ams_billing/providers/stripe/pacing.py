"""Stripe's rate limits (the reference, 7), paced on the shared budget of :mod:`ams_billing.core`.

Stripe counts requests per account and mode: **25 a second in test mode, 100 in live mode**,
and besides **25 a second per endpoint** (one operation such as ``POST /v1/invoices``) and
**20 a second for search**. A concurrency limiter exists too, with no published figure; this
provider keeps at most :data:`CONCURRENT` requests in flight.

:func:`pacers` builds the account's :class:`~ams_billing.core.pacing.Pacer`: one budget for the
account (``second`` window), and one per endpoint on demand (:class:`StripePacing`). With
``AMS_BILLING_RATE_LIMIT_REDIS_URL`` every budget lives in Redis, shared by every process and
worker billing through the same key; otherwise each process paces its own calls.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from ams_billing.core.budget import Budget, LocalBudget, RedisBudget
from ams_billing.core.pacing import Pacer

__all__ = [
    "CONCURRENT",
    "PER_ENDPOINT",
    "PER_SECOND_LIVE",
    "PER_SECOND_SEARCH",
    "PER_SECOND_TEST",
    "StripePacing",
]

PER_SECOND_TEST = 25
"""Requests a second an account may make in test mode."""

PER_SECOND_LIVE = 100
"""Requests a second an account may make in live mode."""

PER_ENDPOINT = 25
"""Requests a second to one endpoint, unless Stripe says otherwise."""

PER_SECOND_SEARCH = 20
"""Search requests a second."""

CONCURRENT = 20
"""Requests in flight at once (Stripe publishes no figure for its concurrency limiter)."""

_GUARD = 0.05
"""Seconds added to each one-second window: requests reach Stripe a little after we count them."""

_NAMES = ("second", "minute")


class StripePacing:
    """The account's budgets: the whole account, each endpoint, and search.

    :param key_id: identifies the account and mode (a digest of the key, never the key).
    :param clock: seconds (monotonic, or an emulator's virtual clock); ``sleep`` waits on it.
    :param time_scale: how many times faster than Stripe's the clock runs (emulator benchmarks).
    """

    def __init__(
        self,
        *,
        live: bool,
        key_id: str,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        time_scale: float = 1.0,
        max_wait: float = 60.0,
        redis_url: str | None = None,
        slot_timeout: float = 35.0,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._scale = time_scale
        self._max_wait = max_wait
        self._redis_url = redis_url
        self._slot_timeout = slot_timeout
        self._prefix = f"ams-billing:stripe:{'live' if live else 'test'}:{key_id}"
        self.per_second = PER_SECOND_LIVE if live else PER_SECOND_TEST
        self.account = self._pacer("account", self.per_second, CONCURRENT)
        self._search = self._pacer("search", PER_SECOND_SEARCH, CONCURRENT)
        self._endpoints: dict[str, Pacer] = {}
        self._lock = threading.Lock()

    def _budget(self, name: str, per_second: int, concurrent: int) -> Budget:
        second = (1.0 + _GUARD) / self._scale
        minute = (60.0 + _GUARD) / self._scale
        if self._redis_url:
            return RedisBudget(
                self._redis_url,
                f"{self._prefix}:{name}",
                per_minute=per_second,
                per_day=per_second * 60,
                concurrent=concurrent,
                minute=second,
                day=minute,
                slot_timeout=self._slot_timeout,
                sleep=self._sleep,
                names=_NAMES,
            )
        return LocalBudget(
            clock=self._clock,
            per_minute=per_second,
            per_day=per_second * 60,
            concurrent=concurrent,
            minute=second,
            day=minute,
            names=_NAMES,
        )

    def _pacer(self, name: str, per_second: int, concurrent: int) -> Pacer:
        return Pacer(
            budget=self._budget(name, per_second, concurrent),
            sleep=self._sleep,
            system="Stripe",
            time_scale=self._scale,
            max_wait=self._max_wait,
            patient="second",  # a one-second window always turns soon enough to wait for
            wake_spread=1.0,
        )

    def endpoint(self, operation: str) -> Pacer:
        """The pacer of one endpoint (``POST /v1/invoices/{id}/finalize``), made on first use."""
        with self._lock:
            pacer = self._endpoints.get(operation)
            if pacer is None:
                digest = hashlib.sha256(operation.encode()).hexdigest()[:12]
                pacer = self._pacer(f"endpoint:{digest}", PER_ENDPOINT, CONCURRENT)
                self._endpoints[operation] = pacer
            return pacer

    @contextmanager
    def slot(self, operation: str, *, search: bool = False) -> Iterator[None]:
        """Wait for room in the account's, the endpoint's (and search's) budgets; hold them."""
        with ExitStack() as stack:
            stack.enter_context(self.account.slot())
            stack.enter_context(self.endpoint(operation).slot())
            if search:
                stack.enter_context(self._search.slot())
            yield

    def blocked(self) -> tuple[float, str | None]:
        """Seconds until the account may call again (after a 429), and the limit."""
        return self.account.blocked()

    def hold_off(self, seconds: float, limit: str | None = None) -> None:
        """Let no call of the account start for ``seconds`` (Stripe's seconds)."""
        self.account.hold_off(seconds, limit)


def key_digest(key: str) -> str:
    """A short digest naming the key's budget (the key itself never leaves the provider)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]
