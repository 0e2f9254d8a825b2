"""The Xero provider wired to a fresh emulator, for the Xero tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from ams_billing import BillingService
from ams_billing.emulators.xero import EmulatorConfig, XeroEmulator
from ams_billing.emulators.xero.harness import (
    RecordedRequest,
    TestTransport,
    XeroTestDriver,
    in_process_harness,
)
from ams_billing.providers.xero import XeroProvider


@attrs.define
class Rig:
    """A provider, its service, the emulator behind it and the recording transport."""

    service: BillingService
    provider: XeroProvider
    emulator: XeroEmulator
    transport: TestTransport
    driver: XeroTestDriver
    close_harness: Callable[[], None]
    extra: list[XeroProvider] = attrs.field(factory=list)

    def close(self) -> None:
        """Close the harness and any extra provider."""
        for provider in self.extra:
            provider.close()
        self.close_harness()

    def api(self, method: str | None = None, path_end: str = "") -> list[RecordedRequest]:
        """The Accounting API requests sent, optionally filtered."""
        return [
            r
            for r in self.transport.api_requests()
            if (method is None or r.method == method) and r.path.endswith(path_end)
        ]

    def endpoint_count(self, endpoint: str) -> int:
        return sum(1 for call in self.emulator.calls if call.endpoint == endpoint)

    def statuses(self, method: str, path_end: str) -> list[int | None]:
        """The statuses the emulator answered to ``method`` on paths ending ``path_end``."""
        return [
            call.status
            for call in self.emulator.calls
            if call.method == method and call.path.endswith(path_end)
        ]

    def second_provider(
        self, *, clock: Callable[[], float] | None = None, **settings: Any
    ) -> XeroProvider:
        """Another provider (as in another process: empty caches and ledger), same emulator."""
        provider = XeroProvider(
            attrs.evolve(self.provider.settings, **settings),
            transport=self.transport,
            clock=clock or self.emulator.clock.elapsed,
            sleep=self.emulator.clock.sleep,
        )
        self.extra.append(provider)
        return provider


def build_rig(config: EmulatorConfig | None = None, **settings: Any) -> Rig:
    harness = in_process_harness(config, **settings)
    driver = harness.driver
    assert isinstance(driver, XeroTestDriver)
    provider = harness.service.provider
    assert isinstance(provider, XeroProvider)
    return Rig(
        service=harness.service,
        provider=provider,
        emulator=driver.emulator,
        transport=driver.transport,
        driver=driver,
        close_harness=harness.close,
    )
