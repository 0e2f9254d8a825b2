"""One module per ``ams-billing`` command; :mod:`ams_billing.cli` registers them."""
