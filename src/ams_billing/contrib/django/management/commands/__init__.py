"""``manage.py ams_billing_check``, ``ams_billing_sync`` and ``ams_billing_drain``."""
