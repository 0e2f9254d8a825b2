"""Stripe-shaped identifiers (``cus_…``, ``in_…``, ``req_…``) from a seeded generator.

Stripe ids are a type prefix and an opaque base-62 tail (§1.4); runs with the same seed make the
same ids, so tests and demos are reproducible.
"""

from __future__ import annotations

import random
import string
import threading

__all__ = ["PREFIXES", "IdFactory"]

_ALPHABET = string.ascii_letters + string.digits

PREFIXES = {
    "customer": "cus",
    "invoice": "in",
    "invoiceitem": "ii",
    "line_item": "il",
    "event": "evt",
    "webhook_endpoint": "we",
    "request": "req",
}
"""The id prefix of each object type the emulator makes."""


class IdFactory:
    """Produce ids from ``random.Random(seed)``; thread-safe."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - determinism, not security
        self._lock = threading.Lock()

    def token(self, length: int = 24) -> str:
        """A random base-62 string."""
        with self._lock:
            return "".join(self._rng.choice(_ALPHABET) for _ in range(length))

    def new(self, kind: str) -> str:
        """A new id for an object of ``kind`` (a key of :data:`PREFIXES`)."""
        return f"{PREFIXES[kind]}_{self.token(24 if kind != 'request' else 14)}"

    def invoice_prefix(self) -> str:
        """A customer's invoice-number prefix: 8 upper-case hex-like characters (fixture style)."""
        with self._lock:
            return "".join(self._rng.choice("0123456789ABCDEF") for _ in range(8))
