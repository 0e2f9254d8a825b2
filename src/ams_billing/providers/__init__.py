"""Billing providers shipped with ams-billing: ``fake`` (in memory) and ``xero``."""
