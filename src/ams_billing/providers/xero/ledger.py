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

The provider-neutral part (the records, the store protocol, the in-memory store) lives in
:mod:`ams_billing.core.ledger` and is re-exported here, where it was first defined.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext

from ams_billing.core.ledger import (
    IdempotencyRecord,
    IdempotencyStore,
    InMemoryIdempotencyStore,
    KeyLockingStore,
    RecordState,
    fingerprint,
    fingerprints,
    same_request,
)

__all__ = [
    "IdempotencyRecord",
    "IdempotencyStore",
    "InMemoryIdempotencyStore",
    "KeyLockingStore",
    "KeyLocks",
    "RecordState",
    "fingerprint",
    "fingerprints",
    "same_request",
    "with_body_digest",
    "xero_key",
]


class KeyLocks:
    """Serialises work on one key (striped locks: bounded memory, no cleanup needed).

    Within the process, striped thread locks. When ``store`` offers a cross-process lock
    (:class:`KeyLockingStore`), that is held too, inside the thread lock: then a key is worked
    on by one process at a time, and the second finds the first one's outcome in the ledger.
    """

    def __init__(self, stripes: int = 64, *, store: IdempotencyStore | None = None) -> None:
        self._locks = tuple(threading.Lock() for _ in range(stripes))
        self._store = store if isinstance(store, KeyLockingStore) else None

    def _stripe(self, key: str) -> int:
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        return int.from_bytes(digest[:4], "big") % len(self._locks)

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Hold the lock for ``key`` (and the store's, if it has one)."""
        with self._locks[self._stripe(key)], self._across_processes(key):
            yield

    @contextmanager
    def hold_many(self, keys: Iterable[str]) -> Iterator[None]:
        """Hold the locks of every key of a batch (taken in one global order: no deadlock)."""
        keys = list(keys)
        with ExitStack() as stack:
            for stripe in sorted({self._stripe(key) for key in keys}):
                stack.enter_context(self._locks[stripe])
            stack.enter_context(self._across_processes(*keys))
            yield

    def _across_processes(self, *keys: str) -> AbstractContextManager[None]:
        return nullcontext() if self._store is None else self._store.lock(*keys)


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
