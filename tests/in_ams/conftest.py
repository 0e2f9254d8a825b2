"""Fixtures of the end-to-end run inside the AMS: the Xero emulator on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ams_billing.contrib.django.service import reset_billing_service
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    XeroEmulator,
    provider_environment,
    serve_emulator,
)


@pytest.fixture
def emulator(settings: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[XeroEmulator]:
    """A fresh emulator served on 127.0.0.1; settings and environment point the AMS at it."""
    emulator = XeroEmulator(EmulatorConfig(), clock=EmulatorClock.real())
    with serve_emulator(emulator) as server:
        for name, value in provider_environment(emulator.config, server.base_url).items():
            if name.startswith("XERO_"):
                monkeypatch.setenv(name, value)
                setattr(settings, name, value)  # the AMS's settings win over the environment
        reset_billing_service()
        emulator.base_url = server.base_url  # type: ignore[attr-defined]
        yield emulator
        reset_billing_service()
