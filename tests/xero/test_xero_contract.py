"""The shared provider contract, run against the Xero provider and the Xero emulator twice:
through the emulator's in-process transport, and over real HTTP on loopback."""

from __future__ import annotations

from ams_billing.contracts import ContractHarness, ProviderContract
from ams_billing.providers.xero.testing import in_process_harness, loopback_harness


class TestXeroInProcess(ProviderContract):
    """Every contract test, with the emulator answering in-process."""

    def make_harness(self) -> ContractHarness:
        return in_process_harness()


class TestXeroLoopback(ProviderContract):
    """Every contract test, with the emulator served on 127.0.0.1 and real HTTP in between."""

    def make_harness(self) -> ContractHarness:
        return loopback_harness()
