"""URLs: include them at the site root to serve ``billing/xero/webhooks/``."""

from __future__ import annotations

from django.urls import path

from ams_billing.contrib.django.views import xero_webhook

__all__ = ["urlpatterns"]

urlpatterns = [path("billing/xero/webhooks/", xero_webhook, name="ams-billing-xero-webhook")]
