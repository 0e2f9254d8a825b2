"""The AMS's webhook routes, for one ``include()`` in its ``ams/billing/urls.py``.

Included there (``path("", include("ams_billing.contrib.ams.urls"))``, under the AMS's
``billing/`` prefix and ``billing`` namespace), they serve:

- ``/billing/xero/webhooks/`` (``billing:xero-webhooks``): the setup guide's URL, unchanged;
- ``/billing/stripe/webhooks/`` (``billing:stripe-webhooks``): the Stripe webhook endpoint's URL.

No ``app_name``: the names join the namespace of the ``include()`` that takes them.
"""

from __future__ import annotations

from django.urls import path

from ams_billing.contrib.ams.views import stripe_webhooks, xero_webhooks

__all__ = ["urlpatterns"]

urlpatterns = [
    path("xero/webhooks/", xero_webhooks, name="xero-webhooks"),
    path("stripe/webhooks/", stripe_webhooks, name="stripe-webhooks"),
]
