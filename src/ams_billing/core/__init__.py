"""The provider-neutral core of ams-billing, the bottom layer: it imports no other layer.

Models (:mod:`.models`), the error hierarchy (:mod:`.errors`), the provider interface as
pluggy hook specifications (:mod:`.hookspecs`), the :class:`BillingService` facade
(:mod:`.service`), policies (:mod:`.policies`), invoice change tracking (:mod:`.tracking`),
the webhook inbox and its processing (:mod:`.inbox`, :mod:`.webhooks`) and Xero-style
arithmetic (:mod:`.totals`). Putting a service together (``load_service``) is
:mod:`ams_billing.assembly`, above this core and the SQL stores. Import the public names from
:mod:`ams_billing`.
"""
