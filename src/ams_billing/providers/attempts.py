"""What the HTTP providers share about one call's attempts: retry signals and lost connections.

Each provider's transport (``providers/xero/transport.py``, ``providers/stripe/transport.py``)
retries with tenacity on :class:`Transient`, remembers per call what its earlier attempts may
have done (:class:`Resends`), and turns a failed connection into the core's error with
:func:`network_failure`, naming its system.
"""

from __future__ import annotations

import attrs
import httpx

from ams_billing.core.errors import BillingError, ProviderUnavailableError

__all__ = ["NEVER_SENT", "Resends", "Transient", "network_failure"]

NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Connection failures that happen before a request leaves: always safe to send again."""


class Transient(Exception):  # noqa: N818 - an internal retry signal, never escapes
    """Retry the call: ``error`` is what the caller gets if the attempts run out."""

    def __init__(self, error: BillingError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@attrs.define
class Resends:
    """What one call knows of its earlier attempts."""

    first_sent: float | None = None
    """The transport's ``clock`` when the first attempt was sent."""
    maybe_applied: bool = False
    """Whether an attempt sent may have been applied (its outcome is unknown)."""


def network_failure(system: str, error: httpx.TransportError, *, safe_to_retry: bool) -> Exception:
    """The error for a failed connection to ``system``: a retry signal if resending is safe."""
    name = type(error).__name__
    if isinstance(error, NEVER_SENT):
        return Transient(ProviderUnavailableError(f"could not reach {system} ({name})"))
    if safe_to_retry:
        return Transient(ProviderUnavailableError(f"the connection to {system} failed ({name})"))
    return ProviderUnavailableError(
        f"the connection to {system} failed ({name}) after the request was sent; its outcome "
        "is unknown and it carried no idempotency key, so it was not repeated",
        retryable=False,
    )
