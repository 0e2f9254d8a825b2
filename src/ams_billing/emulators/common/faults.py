"""The fault rules' matching and firing, shared by every emulator's fault injection.

Each emulator defines its own ``FaultRule`` (its kinds and their parameters); this module holds
what they share: the method converter, method-and-path matching, and :class:`RuleSet`, which
picks the first active rule that matches and fires (after ``skip`` matches, ``count`` times, with
a seeded ``probability``).
"""

from __future__ import annotations

import random
import re
import threading
from typing import Generic, Protocol, TypeVar

import attrs

__all__ = ["Rule", "RuleSet", "matches_call", "optional_upper"]


def optional_upper(value: str | None) -> str | None:
    """A rule's method in upper case (``None`` or empty: any method)."""
    return value.upper() if value else None


def matches_call(rule_method: str | None, rule_path: str | None, method: str, path: str) -> bool:
    """Whether a rule for ``rule_method`` and ``rule_path`` (a regex searched) applies to a call."""
    if rule_method is not None and rule_method != method.upper():
        return False
    return rule_path is None or re.search(rule_path, path) is not None


class Rule(Protocol):
    """What :class:`RuleSet` needs of a rule."""

    @property
    def count(self) -> int | None:
        """How many times the rule fires (``None``: every match)."""
        ...

    @property
    def skip(self) -> int:
        """How many matches pass before it fires."""
        ...

    @property
    def probability(self) -> float:
        """The seeded chance that a match fires."""
        ...

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule applies to this method and path."""
        ...


R = TypeVar("R", bound=Rule)


@attrs.define
class _Active(Generic[R]):
    rule: R
    seen: int = 0
    fired: int = 0


class RuleSet(Generic[R]):
    """The active rules; the first that matches and fires wins; thread-safe."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - reproducible chaos, not security
        self._rules: list[_Active[R]] = []
        self._lock = threading.Lock()

    def add(self, rule: R) -> None:
        """Activate a rule."""
        with self._lock:
            self._rules.append(_Active(rule))

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[R]:
        """The active rules (including exhausted ones)."""
        with self._lock:
            return [active.rule for active in self._rules]

    def pick(self, method: str, path: str) -> R | None:
        """Return the fault to inject into this call, if any, consuming its count."""
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
