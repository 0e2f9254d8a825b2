"""Deprecated: loading a service moved to :mod:`ams_billing.assembly.loading`.

Putting a service together (the provider, the stores) sits above core and the SQL stores, so
it left core. Import these names from :mod:`ams_billing` (or :mod:`ams_billing.assembly`);
this path warns and will be removed in a later release.
"""

from __future__ import annotations

from ams_billing.core.deprecation import moved

__all__: list[str] = []

__getattr__ = moved(
    __name__,
    dict.fromkeys(
        (
            "ENTRY_POINT_GROUP",
            "GUIDE_CLASS_PATHS",
            "PROCESS_VARIABLES",
            "PROVIDER_ATTRIBUTE",
            "SERVICE_CLASS_VARIABLE",
            "ServiceSettings",
            "available_providers",
            "declared_processes",
            "load_provider",
            "load_service",
            "resolve_provider_class",
        ),
        "ams_billing.assembly.loading",
    ),
)
