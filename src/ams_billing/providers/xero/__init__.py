"""The Xero provider (a Xero Custom Connection over httpx) and the local Xero emulator.

Select it with ``AMS_BILLING_SERVICE_CLASS=ams.billing.providers.xero.XeroBillingService`` (or
``xero``) and the setup guide's ``XERO_*`` variables::

    from ams_billing import load_service
    billing = load_service()            # reads AMS_BILLING_SERVICE_CLASS and XERO_*

or build it yourself::

    from ams_billing import BillingService
    from ams_billing.providers.xero import XeroProvider, XeroSettings
    provider = XeroProvider(XeroSettings.from_env())
    billing = BillingService(provider, email_whitelist=provider.settings.email_whitelist)

The emulator lives in the subpackage :mod:`ams_billing.emulators.xero`; harnesses
that run the contract suite against it are in :mod:`ams_billing.emulators.xero.harness`.
"""

from typing import TYPE_CHECKING

from ams_billing.core.deprecation import moved
from ams_billing.providers.xero.ledger import (
    IdempotencyRecord,
    IdempotencyStore,
    InMemoryIdempotencyStore,
    RecordState,
)
from ams_billing.providers.xero.provider import XeroProvider
from ams_billing.providers.xero.settings import (
    DEFAULT_API_URL,
    DEFAULT_IDENTITY_URL,
    Secret,
    XeroSettings,
)
from ams_billing.providers.xero.webhooks import SIGNATURE_HEADER

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_IDENTITY_URL",
    "SIGNATURE_HEADER",
    "IdempotencyRecord",
    "IdempotencyStore",
    "InMemoryIdempotencyStore",
    "RecordState",
    "Secret",
    "XeroProvider",
    "XeroSettings",
]

# Old names, kept with a DeprecationWarning (issue 18). Type checkers see plain aliases, so
# code typed against the old names still checks; at run time each use warns.
if TYPE_CHECKING:
    XeroBillingService = XeroProvider
else:
    __getattr__ = moved(__name__, {"XeroBillingService": "ams_billing.providers.xero:XeroProvider"})
