"""``Idempotency-Key`` on POST (§5): replay the first answer for 24 hours of the emulator clock.

The same key with the same request (method, path and parameters, compared after parsing, so
the order of form fields does not matter) replays the stored status and body with
``Idempotent-Replayed: true``, errors included (400s from the endpoint, 404s, and 500s marked as
having started). The same key with different parameters is a 400 ``idempotency_error``.
Refusals that happen before the endpoint runs are not stored: 401, 429, parameter validation,
injected cuts before the change. Keys longer than 255 characters are a 400.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import attrs

__all__ = ["MAX_KEY_LENGTH", "ReplayCache", "StoredAnswer", "request_digest"]

MAX_KEY_LENGTH = 255


def request_digest(method: str, path: str, params: dict[str, Any]) -> str:
    """What makes two requests "the same" for a key."""
    text = json.dumps([method.upper(), path, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@attrs.frozen
class StoredAnswer:
    """An answer remembered under a key."""

    digest: str
    status: int
    body: bytes = attrs.field(repr=False)
    stored_at: float


class ReplayCache:
    """Answers by key, each kept ``window`` seconds; thread-safe."""

    def __init__(self, window: float) -> None:
        self._window = window
        self._items: dict[str, StoredAnswer] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: float) -> StoredAnswer | None:
        """The live answer stored under ``key`` (an expired one is forgotten)."""
        with self._lock:
            item = self._items.get(key)
            if item is not None and now - item.stored_at >= self._window:
                del self._items[key]
                return None
            return item

    def put(self, key: str, answer: StoredAnswer) -> None:
        """Remember an answer."""
        with self._lock:
            self._items[key] = answer

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
