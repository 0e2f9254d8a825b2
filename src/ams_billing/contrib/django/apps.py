"""The Django app configuration."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["AmsBillingConfig"]


class AmsBillingConfig(AppConfig):
    """ams-billing's Django app: label ``ams_billing``."""

    name = "ams_billing.contrib.django"
    label = "ams_billing"
    verbose_name = "AMS billing"
