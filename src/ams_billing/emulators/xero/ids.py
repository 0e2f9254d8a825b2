"""Deterministic identifiers: uuid4-format ids and tokens from a seeded RNG."""

from __future__ import annotations

import random
import string
import threading
import uuid

__all__ = ["IdFactory"]


class IdFactory:
    """Produce ids from ``random.Random(seed)`` so runs with the same seed are identical."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - determinism, not security
        self._lock = threading.Lock()

    def uuid(self) -> str:
        """Return a new uuid4-format id."""
        with self._lock:
            bits = self._rng.getrandbits(128)
        return str(uuid.UUID(int=bits, version=4))

    def token(self, length: int = 40, alphabet: str = string.ascii_letters + string.digits) -> str:
        """Return a random string (access tokens, online-invoice codes, webhook entropy)."""
        with self._lock:
            return "".join(self._rng.choice(alphabet) for _ in range(length))
