"""Django settings for the end-to-end run inside the AMS: its test settings, billing by Xero.

Copied into the AMS (``ams_billing_e2e/settings.py``) by ``nox -s ams``. The billing class is
the setup guide's, unless ``AMS_BILLING_SERVICE_CLASS`` names another (a ``manage.py`` started
by a Stripe test names the migration's Stripe class, as the AMS's production settings read it);
the ``XERO_*`` and ``STRIPE_*`` values come from the environment, where the test (or the
``manage.py`` it starts) points them at an emulator on loopback.
"""

import os

from config.settings.test import *  # noqa: F403 - the AMS's own test settings, then ours

BILLING_SERVICE_CLASS = (
    os.environ.get("AMS_BILLING_SERVICE_CLASS") or "ams.billing.providers.xero.XeroBillingService"
)
for _name in (
    "XERO_CLIENT_ID",
    "XERO_CLIENT_SECRET",
    "XERO_TENANT_ID",
    "XERO_WEBHOOK_KEY",
    "XERO_API_URL",
    "XERO_IDENTITY_URL",
):
    globals()[_name] = os.environ.get(_name)
