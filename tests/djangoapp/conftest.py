"""Django settings for the Django app's tests, configured before pytest-django needs them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from django_test_settings import configure

configure()


@pytest.fixture(autouse=True)
def fresh_service() -> Iterator[None]:
    from ams_billing.contrib.django.service import reset_billing_service

    reset_billing_service()
    yield
    reset_billing_service()
