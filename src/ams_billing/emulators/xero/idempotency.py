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
from typing import TYPE_CHECKING

import attrs

from ams_billing.core.deprecation import moved
from ams_billing.emulators.common.messages import EmulatorRequest, EmulatorResponse

__all__ = ["ReplayCache", "StoredResponse", "request_digest"]


def request_digest(request: EmulatorRequest) -> str:
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

    request_digest: str
    response: EmulatorResponse
    stored_at: datetime


class ReplayCache:
    """Xero's short memory of ``Idempotency-Key``: responses by ``(tenant, key)``; thread-safe.

    Not the client's idempotency ledger (:class:`ams_billing.core.ledger.IdempotencyStore`),
    which outlives this cache: entries here expire after the retention window.
    """

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


# Old names, kept with a DeprecationWarning (issue 18). Type checkers see plain aliases, so
# code typed against the old names still checks; at run time each use warns.
if TYPE_CHECKING:
    IdempotencyStore = ReplayCache
    fingerprint = request_digest
else:
    __getattr__ = moved(
        __name__,
        {
            "IdempotencyStore": "ams_billing.emulators.xero.idempotency:ReplayCache",
            "fingerprint": "ams_billing.emulators.xero.idempotency:request_digest",
        },
    )
