"""Pytest fixtures for code that talks to Xero, over the Xero emulator.

Use them with ``pytest_plugins = ["ams_billing.contracts.xero_emulator"]`` in a
``conftest.py``, or import the fixtures into a test module:

- ``xero_emulator``: a fresh :class:`XeroEmulator` on a virtual clock (in-process use:
  ``httpx.Client(transport=xero_emulator.transport(), base_url=EMULATOR_BASE_URL)``);
- ``xero_emulator_server``: the same emulator served on a free loopback port, stopped after the
  test;
- ``xero_emulator_client``: an ``httpx.Client`` on the in-process transport with a valid bearer
  token, the tenant header and ``Accept: application/json``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    EmulatorServer,
    XeroEmulator,
    serve_emulator,
)

__all__ = [
    "EMULATOR_BASE_URL",
    "authorised_client",
    "xero_emulator",
    "xero_emulator_client",
    "xero_emulator_server",
]

#: The base URL to pair with the in-process transport (never resolved).
EMULATOR_BASE_URL = "https://emulator.invalid"


def authorised_client(emulator: XeroEmulator, base_url: str | None = None) -> httpx.Client:
    """An ``httpx.Client`` with a fresh token and Xero's usual headers.

    In-process when ``base_url`` is ``None``, otherwise over the network to ``base_url``.
    """
    headers = {
        "Authorization": f"Bearer {emulator.issue_token()}",
        "xero-tenant-id": emulator.config.tenant_id,
        "Accept": "application/json",
    }
    if base_url is None:
        return httpx.Client(
            transport=emulator.transport(), base_url=EMULATOR_BASE_URL, headers=headers
        )
    return httpx.Client(base_url=base_url, headers=headers, timeout=10)


@pytest.fixture
def xero_emulator() -> XeroEmulator:
    """A fresh emulator with default configuration on a virtual clock."""
    return XeroEmulator(EmulatorConfig(), clock=EmulatorClock.virtual())


@pytest.fixture
def xero_emulator_server(xero_emulator: XeroEmulator) -> Iterator[EmulatorServer]:
    """``xero_emulator`` served over HTTP on 127.0.0.1 (a free port)."""
    with serve_emulator(xero_emulator) as server:
        yield server


@pytest.fixture
def xero_emulator_client(xero_emulator: XeroEmulator) -> Iterator[httpx.Client]:
    """An authorised in-process client for ``xero_emulator``."""
    with authorised_client(xero_emulator) as client:
        yield client
