"""Deprecated: webhook processing moved to :mod:`ams_billing.core.webhooks`.

Draining the inbox and the background processor are core behaviour, beside the inbox
protocol; :mod:`ams_billing.contrib.webhooks` keeps the WSGI and ASGI adapters. Import these
names from :mod:`ams_billing.core.webhooks` (or :mod:`ams_billing`); this path warns and will be
removed in a later release.
"""

from __future__ import annotations

from ams_billing.core.deprecation import moved

__all__: list[str] = []

__getattr__ = moved(
    __name__,
    dict.fromkeys(
        (
            "DEFAULT_LEASE_SECONDS",
            "MAX_COALESCED",
            "BackgroundProcessor",
            "DrainResult",
            "drain_inbox",
            "process_entries",
        ),
        "ams_billing.core.webhooks",
    ),
)
