"""``manage.py ams_billing_check`` and ``manage.py ams_billing_sync``."""
