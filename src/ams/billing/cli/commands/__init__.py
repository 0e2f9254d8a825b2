"""One module per ``ams-billing`` command; :mod:`ams.billing.cli` registers them."""
