"""The AMS integration: the AMS's ``BillingService`` interface, run by ams-billing.

The public AMS (``digital-technologies-teachers-aotearoa/ams``) calls its billing service with
``update_user_billing_details(user)``, ``update_organisation_billing_details(organisation)``,
``create_invoice(account, date, due_date, line_items, reference)``, ``email_invoice(invoice)``,
``get_invoice_url(invoice)`` and ``update_invoices(ids)``, on rows of its own models
(``Account``, ``Invoice``, ``XeroContact``). This package implements exactly that:

- :class:`XeroBillingService`: on the ``xero`` provider (the setup guide's ``XERO_*`` settings);
- :class:`MockXeroBillingService`: on the ``fake`` provider, in memory, for the AMS's tests
  and local development;
- :class:`StripeBillingService`: on the ``stripe`` provider (``STRIPE_*`` settings).

After the AMS's migration (``docs/ams/migration.patch``), its module
``ams.billing.providers.xero.service`` re-exports the first two, so the guide's class path
``ams.billing.providers.xero.XeroBillingService`` is ams-billing doing the work, and its new
module ``ams.billing.providers.stripe`` re-exports the third. Its webhook routes are
:mod:`ams_billing.contrib.ams.urls`. All are built with no arguments from Django settings, under
the AMS's own setting names. The AMS's models are imported lazily: this package imports in any
project.
"""

from ams_billing.contrib.ams.rows import write_invoice_row
from ams_billing.contrib.ams.service import (
    AmsBillingService,
    MockXeroBillingService,
    XeroBillingService,
)
from ams_billing.contrib.ams.stripe import StripeBillingService

__all__ = [
    "AmsBillingService",
    "MockXeroBillingService",
    "StripeBillingService",
    "XeroBillingService",
    "write_invoice_row",
]
