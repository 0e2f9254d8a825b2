"""Fault injection: make chosen calls fail the ways Stripe and networks fail (§6).

A :class:`FaultRule` matches by method and path (a regular expression searched in the path),
fires ``count`` times (``None``: every match) after skipping ``skip`` matches, with a seeded
``probability``. Kinds:

- ``rate_limit``: 429 ``rate_limit`` (not retried by stripe-python);
- ``lock_timeout``: 429 ``lock_timeout`` with ``Stripe-Should-Retry: true``;
- ``server_error``: 500 ``api_error``; ``should_retry`` sets ``Stripe-Should-Retry``
  (``None``: no header); ``stored`` keeps it under the request's key, as Stripe does for a 500
  raised once the endpoint started (its retries then replay the 500); ``applied`` (with
  ``stored``) runs the endpoint first and keeps its change, then answers and stores the 500:
  Stripe's 500 "after the write", whose outcome the client cannot tell;
- ``conflict``: 409 ``idempotency_key_in_use`` (another request with the key is running);
- ``slow``: the answer is delayed by ``delay`` seconds, on the emulator clock (virtual) or
  really (``real_delay``);
- ``drop_before``: the connection is cut before the change is applied (nothing stored);
- ``drop_after``: the change is applied and its answer stored under the key, then the
  connection is cut: the client never hears of it, and only a retry with the same key is safe.

Every faulted call is in the call log (``fault``, and ``dropped`` for cuts).
"""

from __future__ import annotations

import enum
import random
import re
import threading

import attrs

__all__ = ["FaultKind", "FaultRule", "FaultRuleSet"]


class FaultKind(enum.StrEnum):
    """What an injected fault does."""

    RATE_LIMIT = "rate_limit"
    LOCK_TIMEOUT = "lock_timeout"
    SERVER_ERROR = "server_error"
    CONFLICT = "conflict"
    SLOW = "slow"
    DROP_BEFORE = "drop_before"
    DROP_AFTER = "drop_after"


def _optional_upper(value: str | None) -> str | None:
    return value.upper() if value else None


@attrs.frozen
class FaultRule:
    """One fault to inject into matching calls."""

    kind: FaultKind = attrs.field(converter=FaultKind)
    method: str | None = attrs.field(default=None, converter=_optional_upper)
    path: str | None = None
    count: int | None = None
    skip: int = 0
    probability: float = 1.0
    delay: float = 0.0
    real_delay: bool = False
    should_retry: bool | None = None
    stored: bool = False
    applied: bool = False

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule applies to this method and path."""
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None


@attrs.define
class _Active:
    rule: FaultRule
    seen: int = 0
    fired: int = 0


class FaultRuleSet:
    """The active rules; the first that matches and fires wins; thread-safe."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - reproducible chaos, not security
        self._rules: list[_Active] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> None:
        """Activate a rule."""
        with self._lock:
            self._rules.append(_Active(rule))

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        """The active rules (including exhausted ones)."""
        with self._lock:
            return [active.rule for active in self._rules]

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The fault to inject into this call, if any (consuming its count)."""
        with self._lock:
            for active in self._rules:
                rule = active.rule
                if rule.count is not None and active.fired >= rule.count:
                    continue
                if not rule.matches(method, path):
                    continue
                active.seen += 1
                if active.seen <= rule.skip:
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                active.fired += 1
                return rule
        return None
