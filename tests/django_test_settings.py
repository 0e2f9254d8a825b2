"""Django settings for the tests of the Django app (tests/djangoapp, tests/security).

The database is a SQLite file in a directory of this process's own (threads and worker
processes share it, as they could not share ``:memory:``), or the PostgreSQL server whose port
``AMS_BILLING_TEST_POSTGRES_PORT`` names (role, password and database ``ams``, as
tests/in_ams/postgres.sh makes them): tests/djangoapp/test_django_postgres.py runs tests/djangoapp
again that way.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from importlib.util import find_spec
from typing import Any

import django
from django.conf import settings

WEBHOOK_KEY = "django-test-webhook-key"
POSTGRES_PORT_VARIABLE = "AMS_BILLING_TEST_POSTGRES_PORT"
TASK_APPS = ["django_tasks", "django_tasks_db"]
"""The Tasks backport and its database backend, installed when importable."""


def database() -> dict[str, Any]:
    """The default database: PostgreSQL when its port is given, else a SQLite file."""
    port = os.environ.get(POSTGRES_PORT_VARIABLE)
    if port:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "ams",
            "USER": "ams",
            "PASSWORD": "ams",
            "HOST": "127.0.0.1",
            "PORT": port,
        }
    folder = tempfile.mkdtemp(prefix="ams-billing-django-tests-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(folder, "db.sqlite3"),
        "OPTIONS": {"timeout": 30},
        "TEST": {"NAME": os.path.join(folder, "test.sqlite3")},
    }


def configure() -> None:
    """Configure Django once per process, before pytest-django needs it."""
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="tests-only-not-a-secret",
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=[
            "ams_billing.contrib.django",
            *(app for app in TASK_APPS if find_spec(app) is not None),
        ],
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        ROOT_URLCONF="djangoapp_urls",
        DATABASES={"default": database()},
        USE_TZ=True,
        STATIC_URL="/static/",
        AMS_BILLING_SERVICE_CLASS="fake",
        AMS_BILLING_FAKE_WEBHOOK_KEY=WEBHOOK_KEY,
    )
    django.setup()
