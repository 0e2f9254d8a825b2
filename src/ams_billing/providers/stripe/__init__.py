"""The Stripe Invoicing provider, over Stripe's v1 REST API with httpx.

Select it with ``AMS_BILLING_SERVICE_CLASS=stripe`` and the ``STRIPE_*`` variables::

    from ams_billing import load_service
    billing = load_service()            # reads AMS_BILLING_SERVICE_CLASS and STRIPE_*

The emulator and the contract harness live in :mod:`ams_billing.emulators.stripe`.
"""

from ams_billing.providers.stripe.provider import StripeProvider
from ams_billing.providers.stripe.settings import (
    DEFAULT_API_BASE,
    DEFAULT_API_VERSION,
    Secret,
    StripeSettings,
)
from ams_billing.providers.stripe.webhooks import SIGNATURE_HEADER

__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_API_VERSION",
    "SIGNATURE_HEADER",
    "Secret",
    "StripeProvider",
    "StripeSettings",
]
