"""The provider's own record of idempotency keys: what each key was used for, and its outcome.

Xero's ``Idempotency-Key`` only guards retries for a few minutes (6, reportedly). The ledger
makes the caller's key durable for as long as the store keeps it:

- a key seen before with the **same** request returns the first outcome (no new request to
  create anything);
- a key seen before with a **different** request raises
  :class:`~ams_billing.core.errors.IdempotencyConflictError`;
- a key whose first attempt ended with an **unknown outcome** (the connection dropped after the
  request left, or Xero kept failing) is left ``pending``: the next attempt looks up in Xero
  what it may have made before calling again (see :mod:`~ams_billing.providers.xero.invoices`).

The default store is in memory (one process). An AMS that runs many processes, or restarts
between a failure and its retry, implements the three-method :class:`IdempotencyStore` over its
database so the guarantee survives; the lookup in Xero covers the rest.

The provider-neutral part (the records, the store protocol, the in-memory store) lives in
:mod:`ams_billing.core.ledger`, and the routine every keyed write follows (lock, look up,
replay, mark pending, record, and which errors forget a key) in
:mod:`ams_billing.core.idempotency`; both are re-exported here, where they were first defined.
"""

from __future__ import annotations

import hashlib

from ams_billing.core.idempotency import KeyLocks
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
