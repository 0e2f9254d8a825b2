"""Django settings for the Django app's tests, configured before pytest-django needs them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ams_billing import InvoiceChange
from django_test_settings import configure

configure()


@pytest.fixture
def changes() -> Iterator[list[InvoiceChange]]:
    """What the ``invoice_changed`` signal told, in order."""
    from ams_billing.contrib.django.signals import invoice_changed

    received: list[InvoiceChange] = []

    def receiver(sender: object, change: InvoiceChange, **kwargs: object) -> None:
        received.append(change)

    invoice_changed.connect(receiver)
    yield received
    invoice_changed.disconnect(receiver)


@pytest.fixture(autouse=True)
def fresh_service() -> Iterator[None]:
    from ams_billing.contrib.django.service import reset_billing_service

    reset_billing_service()
    yield
    reset_billing_service()
