"""Fault injection: make chosen calls fail the ways Xero and networks fail.

A :class:`FaultRule` matches by method and path (a regular expression searched in the request
path) and fires ``count`` times (``None`` = every match) with a seeded ``probability``. Kinds:

- ``rate_limit_minute`` / ``rate_limit_day``: a 429 with ``X-Rate-Limit-Problem`` and
  ``Retry-After`` (``retry_after`` or 60 s / 3,600 s);
- ``server_error``: 500; ``organisation_offline``: 503 "The Organisation is offline";
- ``slow``: the response is delayed by ``delay`` seconds, virtually (the clock advances) or
  really (``real_delay``); over the in-process transport a virtual delay beyond the client's
  read timeout raises ``httpx.ReadTimeout`` (the change was applied);
- ``drop_before``: the connection is cut before the change is applied;
- ``drop_after``: the change is applied, then the connection is cut (duplicates naive retries).

``hold`` (a ``threading.Event``) keeps matching requests in flight until it is set, which makes
the concurrent-call limit testable without sleeping.
"""

from __future__ import annotations

import enum
import threading
from typing import TYPE_CHECKING

import attrs

from ams_billing.core.deprecation import moved
from ams_billing.emulators.common.faults import RuleSet, matches_call, optional_upper

__all__ = ["FaultKind", "FaultRule", "FaultRuleSet"]


class FaultKind(enum.StrEnum):
    """What an injected fault does."""

    RATE_LIMIT_MINUTE = "rate_limit_minute"
    RATE_LIMIT_DAY = "rate_limit_day"
    SERVER_ERROR = "server_error"
    ORGANISATION_OFFLINE = "organisation_offline"
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
    probability: float = 1.0
    delay: float = 0.0
    real_delay: bool = False
    retry_after: int | None = None
    skip: int = 0
    hold: threading.Event | None = attrs.field(default=None, eq=False, repr=False)

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule applies to this method and path."""
        return matches_call(self.method, self.path, method, path)


class FaultRuleSet(RuleSet[FaultRule]):
    """The emulator's active :class:`FaultRule` s; the first rule that matches and fires wins.

    Not the contract's fault-injection protocol (:class:`ams_billing.testing.FaultInjector`),
    which the Xero harness implements on top of these rules.
    """


# Old names, kept with a DeprecationWarning (issue 18). Type checkers see plain aliases, so
# code typed against the old names still checks; at run time each use warns.
if TYPE_CHECKING:
    FaultInjector = FaultRuleSet
else:
    __getattr__ = moved(
        __name__,
        {
            "FaultInjector": "ams_billing.emulators.xero.faults:FaultRuleSet",
        },
    )
