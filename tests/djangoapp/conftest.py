"""Django settings for the Django app's tests, configured before pytest-django needs them."""

from __future__ import annotations

from collections.abc import Iterator

import django
import pytest
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="tests-only-not-a-secret",
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=["ams.billing.contrib.django"],
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        ROOT_URLCONF="djangoapp_urls",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        USE_TZ=True,
        STATIC_URL="/static/",
        AMS_BILLING_SERVICE_CLASS="fake",
        AMS_BILLING_FAKE_WEBHOOK_KEY="django-test-webhook-key",
    )
    django.setup()


@pytest.fixture(autouse=True)
def fresh_service() -> Iterator[None]:
    from ams.billing.contrib.django.service import reset_billing_service

    reset_billing_service()
    yield
    reset_billing_service()
