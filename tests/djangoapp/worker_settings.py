"""Settings of the worker processes the Django tests start (``DJANGO_SETTINGS_MODULE``).

They share the test process's database: ``AMS_BILLING_TEST_DATABASE`` holds its settings as
JSON (the test database's, once pytest-django made it). The provider comes from the
environment (``AMS_BILLING_SERVICE_CLASS``, ``XERO_*``). Each ``invoice_changed`` signal is
appended as a JSON line to the file ``AMS_BILLING_TEST_SIGNAL_LOG`` names, if any.
"""

from __future__ import annotations

import json
import os

from ams_billing import InvoiceChange
from ams_billing.contrib.django.signals import invoice_changed

SECRET_KEY = "tests-only-not-a-secret"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["ams_billing.contrib.django", "django_tasks", "django_tasks_db"]
DATABASES = {"default": json.loads(os.environ["AMS_BILLING_TEST_DATABASE"])}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
LOGGING_CONFIG = None


def _log_signal(sender: object, change: InvoiceChange, **kwargs: object) -> None:
    path = os.environ.get("AMS_BILLING_TEST_SIGNAL_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps([change.invoice.provider_id, change.kind.value]) + "\n")


invoice_changed.connect(_log_signal, weak=False)
