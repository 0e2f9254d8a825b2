"""The service registry (``service.py``) and the processing of deliveries (``processing.py``).

The registry knows nothing of processing; processing asks the registry to stop its worker
when the services are reset. The names processing took from the registry still import from
there, with a DeprecationWarning.
"""

from __future__ import annotations

import importlib

import pytest
from django.test import override_settings

from ams_billing.contrib.django import processing
from ams_billing.contrib.django.service import get_billing_service, reset_billing_service

MOVED = [
    "PROCESSING_SETTING",
    "DjangoBackgroundProcessor",
    "get_processor",
    "keep_delivery",
    "webhook_processing",
]


@pytest.mark.parametrize("name", MOVED)
def test_the_registrys_old_names_warn_and_give_the_processing_ones(name: str) -> None:
    service = importlib.import_module("ams_billing.contrib.django.service")
    with pytest.warns(DeprecationWarning, match=rf"import {name} from {processing.__name__}"):
        assert getattr(service, name) is getattr(processing, name)


def test_resetting_the_services_stops_the_worker_thread_built_on_them() -> None:
    with override_settings(INSTALLED_APPS=[], AMS_BILLING_DATABASE_URL="memory:"):
        reset_billing_service()
        old = processing.get_processor()
        assert old.drain(timeout=5)  # starts the worker, which finds nothing to do
        thread = old._thread
        assert thread is not None
        assert thread.is_alive()
        reset_billing_service()
        assert not thread.is_alive(), "the old service's worker outlived the reset"
        new = processing.get_processor()
        assert new is not old
        assert new.service is get_billing_service()
        reset_billing_service()
