"""The ``Idempotency-Key`` of each Stripe request, derived from the caller's key and the step.

One caller's operation is several Stripe requests (an invoice: create the draft, add each line,
finalize); each gets its own key, ``ams-billing:<operation>:<digest of caller key and step>``,
with a digest of the exact form body appended by the transport. So:

- a retry of the same step with the same parameters carries the same key, and Stripe replays
  its first answer (for at least 24 hours) instead of doing the step twice;
- a key never travels with two different bodies: Stripe refuses that with ``idempotency_error``
  for a day, which would block a corrected retry under the caller's same key;
- the caller's key (which may hold a member id) never reaches Stripe.
"""

from __future__ import annotations

import hashlib

__all__ = ["MAX_KEY_LENGTH", "stripe_key", "with_body_digest"]

MAX_KEY_LENGTH = 255
"""The longest ``Idempotency-Key`` Stripe takes."""


def stripe_key(operation: str, caller_key: str, step: str = "") -> str:
    """The stem of the key for one step of a caller's operation."""
    digest = hashlib.sha256(f"{caller_key}\0{step}".encode()).hexdigest()[:40]
    return f"ams-billing:{operation}:{digest}"


def with_body_digest(key: str, body: bytes | None) -> str:
    """``key`` with a digest of the request body appended (at most 255 characters)."""
    digest = hashlib.sha256(body or b"").hexdigest()[:16]
    return f"{key[: MAX_KEY_LENGTH - len(digest) - 1]}:{digest}"
