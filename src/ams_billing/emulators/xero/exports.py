"""The environment that points the Xero provider at an emulator: the setup guide's variables."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ams_billing.core.state import DATABASE_URL_VARIABLE, MEMORY

from .config import EmulatorConfig

__all__ = ["XERO_CLASS_PATH", "provider_environment", "throwaway_database"]

XERO_CLASS_PATH = "ams.billing.providers.xero.XeroBillingService"
"""The class path the operators' setup guide gives for ``AMS_BILLING_SERVICE_CLASS``."""


def provider_environment(
    config: EmulatorConfig, base_url: str, *, database_url: str | None = MEMORY
) -> dict[str, str]:
    """The variables to export so ``load_service()`` bills through the emulator at ``base_url``.

    The credentials are the emulator's own fake ones; print them freely.

    ``AMS_BILLING_DATABASE_URL`` is ``database_url``: billing state of this emulator's own,
    which starts empty as its books do. By default ``memory:`` (the state lives as long as the
    process, as an in-process emulator does); :func:`throwaway_database` gives a file several
    processes can share; ``None`` leaves the variable out, so the default database is used.
    Never pair a fresh emulator with a database that outlives it: its ledger would replay ids
    of emulators that are gone.
    """
    database = {DATABASE_URL_VARIABLE: database_url} if database_url else {}
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
        **database,
    }


@contextmanager
def throwaway_database() -> Iterator[str]:
    """An SQLite URL in a new temporary directory, deleted on exit: the state of one emulator.

    Each emulator starts with empty books; billing state kept beside it must start empty too,
    and go with it.
    """
    with tempfile.TemporaryDirectory(prefix="ams-billing-emulator-") as folder:
        yield f"sqlite:///{Path(folder) / 'billing.sqlite3'}"
