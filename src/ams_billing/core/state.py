"""The vocabulary of a service's durable state: the protocols and the ``memory:`` choice.

Three kinds of state must outlive a process: the provider's idempotency ledger, the tracker's
last-seen invoice states and the webhook inbox. :class:`StateStores` is the three over one
database (:class:`~ams_billing.stores.SqlStores` is one), and ``AMS_BILLING_DATABASE_URL``
(:data:`DATABASE_URL_VARIABLE`) names that database, or :data:`MEMORY` for none. Choosing the
stores for a service is :func:`ams_billing.assembly.state.choose_state`, above both this core
and the SQL stores.
"""

from __future__ import annotations

from typing import Any, Protocol

from ams_billing.core.deprecation import moved
from ams_billing.core.inbox import WebhookInbox
from ams_billing.core.tracking import InvoiceStateStore

__all__ = [
    "DATABASE_URL_VARIABLE",
    "MEMORY",
    "Closeable",
    "StateStores",
    "is_memory",
]

DATABASE_URL_VARIABLE = "AMS_BILLING_DATABASE_URL"
"""The environment variable naming the stores' database (an SQLAlchemy URL, or ``memory:``)."""

MEMORY = "memory:"
"""The value (of ``AMS_BILLING_DATABASE_URL`` or ``stores=``) that keeps state in memory."""

_MEMORY_SPELLINGS = frozenset({"memory", "memory:", "memory://"})


class StateStores(Protocol):
    """The three stores over one database, as :class:`~ams_billing.stores.SqlStores` has them."""

    @property
    def idempotency(self) -> Any:
        """The idempotency ledger's records (an ``IdempotencyStore``)."""

    @property
    def invoice_state(self) -> InvoiceStateStore:
        """The tracker's last-seen invoice states."""

    @property
    def inbox(self) -> WebhookInbox:
        """Verified webhook deliveries awaiting processing."""


class Closeable(Protocol):
    """Something holding resources (connections, a client) until :meth:`close`."""

    def close(self) -> None:
        """Release the resources."""


def is_memory(value: str) -> bool:
    """Whether ``value`` chooses memory: ``memory:`` (``memory`` and ``memory://`` too)."""
    return value.strip().lower() in _MEMORY_SPELLINGS


__getattr__ = moved(
    __name__,
    dict.fromkeys(
        ("ChosenState", "choose_state", "location", "takes_idempotency_store"),
        "ams_billing.assembly.state",
    ),
)
