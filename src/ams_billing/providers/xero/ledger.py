"""The provider's own record of idempotency keys: what each key was used for, and its outcome.

Xero's ``Idempotency-Key`` only guards retries for a few minutes (6, reportedly). The ledger
makes the caller's key durable for as long as the store keeps it:

- a key seen before with the **same** request returns the first outcome (no new request to
  create anything);
- a key seen before with a **different** request raises
  :class:`~ams_billing.core.errors.IdempotencyConflictError`;
- a key whose first attempt ended with an **unknown outcome** (the connection dropped after the
  request left, or Xero kept failing) is left ``pending``: the next attempt looks the invoice up
  in Xero before creating anything (see :mod:`~ams_billing.providers.xero.invoices`).

The default store is in memory (one process). An AMS that runs many processes, or restarts
between a failure and its retry, implements the three-method :class:`IdempotencyStore` over its
database so the guarantee survives; the lookup in Xero covers the rest.
"""

from __future__ import annotations

import enum
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Protocol

import attrs

from ams_billing.core.convert import unstructure
from ams_billing.core.errors import IdempotencyConflictError

__all__ = [
    "IdempotencyRecord",
    "IdempotencyStore",
    "InMemoryIdempotencyStore",
    "KeyLocks",
    "RecordState",
    "fingerprint",
    "same_request",
    "with_body_digest",
    "xero_key",
]


class RecordState(enum.Enum):
    """Where a keyed operation stands."""

    PENDING = "pending"
    DONE = "done"


@attrs.frozen
class IdempotencyRecord:
    """What one idempotency key was used for.

    ``fingerprint`` identifies the request; ``result`` is the Xero id it produced (InvoiceID,
    ContactID) once ``DONE``; ``detail`` holds a little more (the email recipient).
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


def same_request(
    record: IdempotencyRecord | None, operation: str, print_: str, key: str
) -> IdempotencyRecord | None:
    """Return ``record`` if it was made for this operation and request; raise if for another."""
    if record is not None and (record.operation != operation or record.fingerprint != print_):
        raise IdempotencyConflictError(key, f" ({record.operation})")
    return record


def fingerprint(operation: str, request: object) -> str:
    """A stable digest of a core request model (``Contact``, ``InvoiceRequest``) or an id."""
    data = unstructure(request) if attrs.has(type(request)) else request
    text = json.dumps([operation, data], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class KeyLocks:
    """Serialises work on one key (striped locks: bounded memory, no cleanup needed)."""

    def __init__(self, stripes: int = 64) -> None:
        self._locks = tuple(threading.Lock() for _ in range(stripes))

    def _stripe(self, key: str) -> int:
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        return int.from_bytes(digest[:4], "big") % len(self._locks)

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Hold the lock for ``key``."""
        with self._locks[self._stripe(key)]:
            yield

    @contextmanager
    def hold_many(self, keys: Iterable[str]) -> Iterator[None]:
        """Hold the locks of every key of a batch (taken in one global order: no deadlock)."""
        with ExitStack() as stack:
            for stripe in sorted({self._stripe(key) for key in keys}):
                stack.enter_context(self._locks[stripe])
            yield


def xero_key(operation: str, caller_key: str, step: str = "") -> str:
    """The stem of the ``Idempotency-Key`` sent to Xero for one step of a caller's operation.

    Hashing keeps the caller's key (which may hold a member id) out of Xero's records and
    within Xero's 128 characters. The transport appends a digest of the request body (see
    :func:`with_body_digest`), so a key never travels with two different bodies: Xero refuses
    that for minutes, which would block a corrected retry under the caller's same key.
    """
    digest = hashlib.sha256(f"{caller_key}\0{step}".encode()).hexdigest()[:40]
    return f"ams-billing:{operation}:{digest}"


def with_body_digest(key: str, body: bytes | None) -> str:
    """``key`` with a digest of the request body appended (at most 128 characters in all)."""
    digest = hashlib.sha256(body or b"").hexdigest()[:16]
    return f"{key[: 128 - len(digest) - 1]}:{digest}"
