"""Fixtures for the Stripe emulator's tests: a served emulator, Stripe's SDK and raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ams_billing.emulators.stripe import StripeEmulator, StripeEmulatorConfig

stripe = pytest.importorskip("stripe")


@pytest.fixture
def emu() -> Iterator[StripeEmulator]:
    """A served emulator without rate limits (tests that want them build their own)."""
    with StripeEmulator(StripeEmulatorConfig(rate_limits=None)) as emulator:
        yield emulator


@pytest.fixture
def sdk(emu: StripeEmulator) -> stripe.StripeClient:
    """Stripe's own client, unmodified, pointed at the emulator; its retries off (§9.5)."""
    return stripe.StripeClient(
        api_key=emu.secret_key, base_addresses={"api": emu.base_url}, max_network_retries=0
    )


@pytest.fixture
def http(emu: StripeEmulator) -> Iterator[httpx.Client]:
    """Raw HTTP over loopback with the account's key."""
    with httpx.Client(
        base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.secret_key}"}
    ) as client:
        yield client
