"""The provider-neutral core of ams-billing.

Models (:mod:`.models`), the error hierarchy (:mod:`.errors`), the provider interface as
pluggy hook specifications (:mod:`.hookspecs`), the :class:`BillingService` facade
(:mod:`.service`), provider loading (:mod:`.loading`), policies (:mod:`.policies`), invoice
change tracking (:mod:`.tracking`) and Xero-style arithmetic (:mod:`.totals`). Import the
public names from :mod:`ams_billing`.
"""
