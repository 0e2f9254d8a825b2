"""``Idempotency-Key`` on PUT/POST: replay the first response within the retention window.

A key is scoped per tenant. A repeat of the same request (method, path, query and body) within
the retention window (6 minutes by default; the figure is [U]) replays the stored status, body
and headers without changing anything; the same key on a different request is a 400 ("Idempotency
Key ... is used with a different request", wording [U]). Error responses produced by the handler
(400, 404) are stored too ([U]); injected faults, rate-limit refusals and auth failures are not.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta

import attrs

from .messages import EmulatorRequest, EmulatorResponse

__all__ = ["IdempotencyStore", "StoredResponse", "fingerprint"]


def fingerprint(request: EmulatorRequest) -> str:
    """A digest of what makes two requests "the same"."""
    digest = hashlib.sha256()
    for part in (request.method.upper(), request.path, request.query_string):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


@attrs.frozen
class StoredResponse:
    """A response remembered under a key."""

    fingerprint: str
    response: EmulatorResponse
    stored_at: datetime


class IdempotencyStore:
    """Responses by ``(tenant, key)``; thread-safe."""

    def __init__(self, retention: float) -> None:
        self._retention = timedelta(seconds=retention)
        self._items: dict[tuple[str, str], StoredResponse] = {}
        self._lock = threading.Lock()

    def get(self, tenant: str, key: str, now: datetime) -> StoredResponse | None:
        """Return the live entry for the key, dropping it if it has expired."""
        with self._lock:
            item = self._items.get((tenant, key))
            if item is not None and now - item.stored_at >= self._retention:
                del self._items[(tenant, key)]
                return None
            return item

    def put(
        self, tenant: str, key: str, print_: str, response: EmulatorResponse, now: datetime
    ) -> None:
        """Remember a response."""
        with self._lock:
            self._items[(tenant, key)] = StoredResponse(print_, response, now)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
