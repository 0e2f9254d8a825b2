"""The environment that points the Xero provider at an emulator: the setup guide's variables."""

from __future__ import annotations

from .config import EmulatorConfig

__all__ = ["XERO_CLASS_PATH", "provider_environment"]

XERO_CLASS_PATH = "ams.billing.providers.xero.XeroBillingService"
"""The class path the operators' setup guide gives for ``AMS_BILLING_SERVICE_CLASS``."""


def provider_environment(config: EmulatorConfig, base_url: str) -> dict[str, str]:
    """The variables to export so ``load_service()`` bills through the emulator at ``base_url``.

    The credentials are the emulator's own fake ones; print them freely.
    """
    return {
        "AMS_BILLING_SERVICE_CLASS": XERO_CLASS_PATH,
        "XERO_CLIENT_ID": config.client_id,
        "XERO_CLIENT_SECRET": config.client_secret,
        "XERO_TENANT_ID": config.tenant_id,
        "XERO_WEBHOOK_KEY": config.webhook_key,
        "XERO_ACCOUNT_CODE": "200",
        "XERO_AMOUNT_TYPE": "INCLUSIVE",
        "XERO_CURRENCY_CODE": config.base_currency,
        "XERO_EMAIL_INVOICES": "False" if config.is_demo_company else "True",
        "XERO_API_URL": base_url,
        "XERO_IDENTITY_URL": base_url,
    }
