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

import attrs

from ams_billing.emulators.common.faults import RuleSet, matches_call, optional_upper

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


@attrs.frozen
class FaultRule:
    """One fault to inject into matching calls."""

    kind: FaultKind = attrs.field(converter=FaultKind)
    method: str | None = attrs.field(default=None, converter=optional_upper)
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
        return matches_call(self.method, self.path, method, path)


class FaultRuleSet(RuleSet[FaultRule]):
    """The active rules; the first that matches and fires wins; thread-safe."""
