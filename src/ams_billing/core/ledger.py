"""The client's record of idempotency keys: what each key was used for, and its outcome.

An accounting system remembers an ``Idempotency-Key`` only for a short while (Xero: minutes).
A provider that keeps the promise "one key, one invoice" for longer keeps its own ledger of
the keys it used, in an :class:`IdempotencyStore`:

- a key seen before with the **same** request returns the first outcome;
- a key seen before with a **different** request raises
  :class:`~ams_billing.core.errors.IdempotencyConflictError` (:func:`same_request`);
- a key whose first attempt ended with an **unknown outcome** is left ``PENDING``; what the
  provider does about it (look the result up before creating again) is its own business.

:class:`InMemoryIdempotencyStore` lives and dies with the process; the durable stores are
:class:`~ams_billing.stores.SqlIdempotencyStore` and the Django app's. A provider takes one as
``idempotency_store`` so that the guarantee survives restarts and spans processes.

A store shared by several processes may also offer :class:`KeyLockingStore`: a lock per key
that every process sharing the store respects. The provider holds it around the whole keyed
operation, so two processes with one key at one moment make one invoice and give one answer.
A store without it still works, but then only one process is protected.
"""

from __future__ import annotations

import enum
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

import attrs

from ams_billing.core.convert import unstructure
from ams_billing.core.errors import IdempotencyConflictError
from ams_billing.core.models import AmountType, InvoiceRequest

__all__ = [
    "IdempotencyRecord",
    "IdempotencyStore",
    "InMemoryIdempotencyStore",
    "KeyLockingStore",
    "RecordState",
    "fingerprint",
    "fingerprints",
    "same_request",
]


class RecordState(enum.Enum):
    """Where a keyed operation stands."""

    PENDING = "pending"
    DONE = "done"


@attrs.frozen
class IdempotencyRecord:
    """What one idempotency key was used for.

    ``fingerprint`` identifies the request; ``result`` is the provider's id it produced (an
    invoice's, a contact's) once ``DONE``; ``detail`` holds a little more (the email recipient).
    """

    operation: str
    fingerprint: str
    state: RecordState
    result: str | None = None
    detail: str | None = None


class IdempotencyStore(Protocol):
    """Where the ledger keeps its records; implementations must be thread-safe."""

    def get(self, key: str) -> IdempotencyRecord | None:
        """Return the record of ``key``, or ``None``."""

    def put(self, key: str, record: IdempotencyRecord) -> None:
        """Store (or replace) the record of ``key``."""

    def delete(self, key: str) -> None:
        """Forget ``key`` (its request was refused, so it may be used again)."""


@runtime_checkable
class KeyLockingStore(Protocol):
    """An optional capability of an :class:`IdempotencyStore`: a cross-process lock per key.

    Providers detect it with ``isinstance(store, KeyLockingStore)``; a store without it keeps
    working (the provider then serialises a key only within its own process). The in-memory
    store has none: it is one process's anyway.
    """

    def lock(self, *keys: str) -> AbstractContextManager[None]:
        """Hold the lock of every key in ``keys`` until the ``with`` block ends.

        Implementations take the locks in one global order (no deadlock between two batches),
        let a thread re-take a lock it holds, and wait a bounded time: a lock not had in time
        raises a retryable :class:`~ams_billing.core.errors.ProviderUnavailableError`.
        """


# pragma: no mutate start (a store, like the SQL ones: not provider behaviour; MUTATION.md)
class InMemoryIdempotencyStore:
    """A bounded, thread-safe in-memory store; the oldest keys are forgotten first."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._records: OrderedDict[str, IdempotencyRecord] = OrderedDict()
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<InMemoryIdempotencyStore {len(self._records)} keys>"

    def get(self, key: str) -> IdempotencyRecord | None:
        """Return the record of ``key``, or ``None``."""
        with self._lock:
            return self._records.get(key)

    def put(self, key: str, record: IdempotencyRecord) -> None:
        """Store the record, evicting the oldest beyond ``max_keys``."""
        with self._lock:
            self._records[key] = record
            self._records.move_to_end(key)
            while len(self._records) > self._max_keys:
                self._records.popitem(last=False)

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._records.pop(key, None)

    def pending(self) -> dict[str, IdempotencyRecord]:
        """The records whose outcome is still unknown (for tests and diagnostics)."""
        with self._lock:
            return {k: r for k, r in self._records.items() if r.state is RecordState.PENDING}


# pragma: no mutate end


def same_request(
    record: IdempotencyRecord | None, operation: str, print_: str | Sequence[str], key: str
) -> IdempotencyRecord | None:
    """Return ``record`` if it was made for this operation and request; raise if for another.

    ``print_`` is the request's fingerprint, or all of them (:func:`fingerprints`).
    """
    prints = (print_,) if isinstance(print_, str) else tuple(print_)
    if record is not None and (record.operation != operation or record.fingerprint not in prints):
        raise IdempotencyConflictError(key, f" ({record.operation})")
    return record


def fingerprint(operation: str, request: object) -> str:
    """A stable digest of a core request model (``Contact``, ``InvoiceRequest``) or an id."""
    data = unstructure(request) if attrs.has(type(request)) else request
    text = json.dumps([operation, data], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprints(operation: str, request: object) -> tuple[str, ...]:
    """The request's :func:`fingerprint`, then those earlier releases recorded for it.

    An ``InvoiceRequest`` naming no amount type was recorded as ``EXCLUSIVE`` (the model's
    default then) until unset meant the provider's default; a key recorded so must still
    replay, so such a request matches that record too (and so one recorded as naming
    ``EXCLUSIVE``: the two cannot be told apart, and a replay never bills twice). Compare
    with :func:`same_request`.
    """
    current = fingerprint(operation, request)
    if isinstance(request, InvoiceRequest) and request.amount_type is None:
        earlier = attrs.evolve(request, amount_type=AmountType.EXCLUSIVE)
        return current, fingerprint(operation, earlier)
    return (current,)
