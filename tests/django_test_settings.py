"""Django settings for the tests of the Django app (tests/djangoapp, tests/security)."""

from __future__ import annotations

import django
from django.conf import settings

WEBHOOK_KEY = "django-test-webhook-key"


def configure() -> None:
    """Configure Django once per process, before pytest-django needs it."""
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="tests-only-not-a-secret",
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=["ams_billing.contrib.django"],
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        ROOT_URLCONF="djangoapp_urls",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        USE_TZ=True,
        STATIC_URL="/static/",
        AMS_BILLING_SERVICE_CLASS="fake",
        AMS_BILLING_FAKE_WEBHOOK_KEY=WEBHOOK_KEY,
    )
    django.setup()
