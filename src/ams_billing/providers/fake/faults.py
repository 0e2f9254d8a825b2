"""Fault injection for the fake provider: fail the next N operations on purpose.

Tests of retries and error handling use it instead of mocks: the real service and policies
run, and the provider fails exactly where the test says.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import attrs

from ams_billing.core.errors import (
    BillingError,
    ConfigurationError,
    FieldError,
    IdempotencyConflictError,
    InvalidStateError,
    NotFoundError,
    ProviderNotFoundError,
    RateLimitedError,
    UnsupportedOperationError,
    ValidationError,
)

__all__ = ["FaultPlan", "make_error"]


def make_error(error: type[BillingError]) -> BillingError:
    """Build an instance of any error class with a message saying it was injected."""
    message = "fault injected by the fake provider"
    if issubclass(error, ProviderNotFoundError):
        return error("fake", message, ())
    if issubclass(error, ConfigurationError):
        return error(message)
    if issubclass(error, IdempotencyConflictError):
        return error("injected-key", f": {message}")
    if issubclass(error, ValidationError):
        return error([FieldError("$", message)])
    if issubclass(error, RateLimitedError):
        return error(message, retry_after=1.0, limit="minute")
    if issubclass(error, NotFoundError | InvalidStateError):
        return error(message)
    if issubclass(error, UnsupportedOperationError):
        return error(message)
    return error(message)


@attrs.define
class _Fault:
    remaining: int
    error: type[BillingError]
    operations: frozenset[str] | None
    after_apply: bool


class FaultPlan:
    """The faults still to fire, consumed in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        count: int,
        error: type[BillingError],
        operations: Iterable[str] | None,
        after_apply: bool,
    ) -> None:
        """Queue ``count`` failures of ``error`` for ``operations`` (all when ``None``)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        ops = frozenset(operations) if operations is not None else None
        with self._lock:
            self._faults.append(_Fault(count, error, ops, after_apply))

    def take(self, operation: str, *, after_apply: bool) -> BillingError | None:
        """Consume and return the error due for this operation at this point, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.after_apply is not after_apply:
                    continue
                if fault.operations is not None and operation not in fault.operations:
                    continue
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return make_error(fault.error)
        return None

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()
