"""Putting a billing service together: the provider, the stores, the facade around them.

:func:`load_service` reads the environment, chooses the provider by entry-point name or class
path, chooses where its state lives (the SQL stores of :mod:`ams_billing.stores` by default,
memory when asked) and returns the :class:`~ams_billing.core.service.BillingService`.

Where it sits: above :mod:`ams_billing.core` (the facade, the protocols, the in-memory
stores) and :mod:`ams_billing.stores` (the SQL stores), which it builds on, and below
:mod:`ams_billing.providers`, which it never imports. A provider is found by the name of its
entry point (group ``ams_billing.providers``) or by a dotted class path, a string resolved at
run time, so this package works the same for the providers shipped here and a third party's,
and nothing below the providers depends on any of them.
"""

from ams_billing.assembly.loading import (
    ENTRY_POINT_GROUP,
    PROCESS_VARIABLES,
    SERVICE_CLASS_VARIABLE,
    ServiceSettings,
    available_providers,
    declared_processes,
    load_durable_service,
    load_provider,
    load_service,
    resolve_provider_class,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "PROCESS_VARIABLES",
    "SERVICE_CLASS_VARIABLE",
    "ServiceSettings",
    "available_providers",
    "declared_processes",
    "load_durable_service",
    "load_provider",
    "load_service",
    "resolve_provider_class",
]
