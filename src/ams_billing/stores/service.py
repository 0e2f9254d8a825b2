"""A billing service whose state lives in the SQL stores: what survives a restart, survives.

:func:`load_durable_service` is :func:`~ams_billing.core.loading.load_service` with the
tracker's invoice state in :attr:`SqlStores.invoice_state` and, for a provider that takes an
``idempotency_store`` (the Xero provider does), its ledger in :attr:`SqlStores.idempotency`.
Deliveries go to :attr:`SqlStores.inbox` through
``BackgroundProcessor(service, inbox=stores.inbox)`` or ``drain_inbox(service, stores.inbox)``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ams_billing.core.loading import SERVICE_CLASS_VARIABLE, load_service, resolve_provider_class
from ams_billing.core.service import BillingService
from ams_billing.stores.sql_stores import SqlStores

__all__ = ["load_durable_service", "takes_idempotency_store"]


def takes_idempotency_store(provider_class: type[Any]) -> bool:
    """Whether the provider's constructor accepts an ``idempotency_store``."""
    try:
        return "idempotency_store" in inspect.signature(provider_class).parameters
    except (TypeError, ValueError):  # a signature that cannot be read: give it nothing
        return False


def load_durable_service(
    stores: SqlStores,
    value: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    listeners: Iterable[object] = (),
    policies: Iterable[object] = (),
    **provider_kwargs: Any,
) -> BillingService:
    """``load_service`` with its state in ``stores`` (see the module docstring)."""
    # Only the provider's name is read here: no copy of the environment (and its secrets) is
    # left in this frame's locals for an error reporter to record.
    chosen = value or (os.environ if environ is None else environ).get(SERVICE_CLASS_VARIABLE)
    if chosen and chosen.strip() and takes_idempotency_store(resolve_provider_class(chosen)):
        provider_kwargs.setdefault("idempotency_store", stores.idempotency)
    return load_service(
        value,
        environ=environ,
        listeners=listeners,
        policies=policies,
        state_store=stores.invoice_state,
        **provider_kwargs,
    )
