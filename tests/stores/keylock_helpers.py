"""The functions the key-lock race runs in its worker processes (spawned: top-level only)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
from stores_helpers import start_together

from ams_billing import BillingService, Contact, InvoiceRequest, LineItem
from ams_billing.core.ledger import IdempotencyRecord, IdempotencyStore
from ams_billing.providers.xero import XeroProvider
from ams_billing.providers.xero.settings import XeroSettings
from ams_billing.stores import open_stores

REQUEST = InvoiceRequest(
    contact=Contact("acct-race", "Grace Hopper", "grace@example.org", "Grace", "Hopper"),
    line_items=[LineItem("Annual membership", Decimal(1), Decimal("120.00"))],
    currency="NZD",
    issue_date=date(2026, 7, 1),
    due_date=date(2026, 7, 31),
    reference="RACE",
)


class WithoutLock:
    """A store's get/put/delete only: the provider sees no cross-process lock (the control)."""

    def __init__(self, store: IdempotencyStore) -> None:
        self._store = store

    def get(self, key: str) -> IdempotencyRecord | None:
        """Delegate."""
        return self._store.get(key)

    def put(self, key: str, record: IdempotencyRecord) -> None:
        """Delegate."""
        self._store.put(key, record)

    def delete(self, key: str) -> None:
        """Delegate."""
        self._store.delete(key)


def create_same_invoice(
    url: str, settings: XeroSettings, key: str, reference: str, locking: bool
) -> str:
    """Create :data:`REQUEST` for ``reference`` under ``key`` at once with the other processes.

    Returns the invoice id, or ``error: ...`` when the create raised.
    """
    with open_stores(url, upgrade=False) as stores:
        shared = stores.idempotency
        ledger: IdempotencyStore = shared if locking else WithoutLock(shared)
        provider = XeroProvider(settings, idempotency_store=ledger)
        try:
            start_together()
            request = attrs.evolve(REQUEST, reference=reference)
            invoice = BillingService(provider).create_invoice(request, idempotency_key=key)
        except Exception as error:
            return f"error: {type(error).__name__}: {error}"
        finally:
            provider.close()
    return invoice.provider_id
