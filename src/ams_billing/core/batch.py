"""Bulk operations: many creates in one call, each item with its own key and its own result.

A batch is a sequence of :class:`BatchItem` (a request and the caller's idempotency key); the
answer is one :class:`BatchResult` per item, in input order. An item either succeeded
(:attr:`BatchOutcome.CREATED`, or :attr:`BatchOutcome.EXISTING` when its key was a replay or
the record was already there) or failed with a typed
:class:`~ams_billing.core.errors.BillingError`; one item's failure never fails the others.
Validation errors returned by :class:`~ams_billing.core.service.BillingService` name the item:
their fields read ``items[3].line_items[0].account_code``.
"""

from __future__ import annotations

import enum
from typing import Generic, TypeVar

import attrs

from ams_billing.core.errors import BillingError, FieldError, ValidationError

__all__ = ["BatchItem", "BatchOutcome", "BatchResult", "name_item"]

T = TypeVar("T")
R = TypeVar("R")


@attrs.frozen
class BatchItem(Generic[T]):
    """One request of a batch and the idempotency key the caller owns for it."""

    request: T
    idempotency_key: str


class BatchOutcome(enum.Enum):
    """What happened to one item of a batch."""

    CREATED = "created"
    """A new record was created for this item."""
    EXISTING = "existing"
    """Nothing new: the key was a replay, or the record existed already (and was updated)."""
    FAILED = "failed"
    """The item failed; ``error`` says why. A retry with the same key is safe."""


@attrs.frozen
class BatchResult(Generic[R]):
    """The result of one item: ``result`` when it succeeded, ``error`` when it failed.

    ``index`` is the item's position in the batch, ``idempotency_key`` its key.
    """

    index: int
    idempotency_key: str
    outcome: BatchOutcome
    result: R | None = None
    error: BillingError | None = None

    @property
    def ok(self) -> bool:
        """True unless the item failed."""
        return self.outcome is not BatchOutcome.FAILED

    def unwrap(self) -> R:
        """The result, or raise the item's error."""
        if self.error is not None:
            raise self.error
        if self.result is None:  # pragma: no cover - a result always has one or the other
            raise ValueError(f"item {self.index} has neither result nor error")
        return self.result


def name_item(error: BillingError, index: int) -> BillingError:
    """``error`` with its fields prefixed by ``items[<index>].`` (other errors unchanged).

    The copy keeps the class (an :class:`~ams_billing.core.errors.IdempotencyConflictError`
    stays one) and every attribute; the original is its ``__cause__``.
    """
    if not isinstance(error, ValidationError):
        return error
    prefix = f"items[{index}]"
    if all(e.field.startswith(f"{prefix}.") or e.field == prefix for e in error.errors):
        return error
    named = type(error).__new__(type(error))
    named.__dict__.update(error.__dict__)
    named.errors = tuple(
        FieldError(prefix if e.field == "$" else f"{prefix}.{e.field}", e.message, e.fix)
        for e in error.errors
    )
    named.args = (f"invalid request: {'; '.join(str(e) for e in named.errors)}",)
    named.__cause__ = error
    return named
