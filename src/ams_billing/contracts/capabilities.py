"""Skipping what a provider does not offer, with a reason, and probing that it says so.

A provider declares its optional operations through ``service.capabilities``; the suite skips
the tests of an absent capability (naming it) and runs instead a test that the operation raises
:class:`~ams_billing.core.errors.UnsupportedOperationError`. Fault injection is optional for
test drivers: the fault tests skip unless the driver implements
:class:`~ams_billing.contracts.harness.FaultInjector`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from ams_billing.contracts.harness import ContractHarness, FaultInjector
from ams_billing.core.models import Capability, Invoice

__all__ = ["PROBES", "require_capability", "require_fault_injector", "require_no_capability"]


def require_capability(harness: ContractHarness, capability: Capability) -> None:
    """Skip the calling test unless the provider offers ``capability``."""
    if capability not in harness.service.capabilities:
        pytest.skip(
            f"the provider does not offer {capability.name} (it is absent from "
            "service.capabilities); test_absent_capability_is_unsupported checks that instead"
        )


def require_no_capability(harness: ContractHarness, capability: Capability) -> None:
    """Skip the calling test if the provider offers ``capability``."""
    if capability in harness.service.capabilities:
        pytest.skip(f"the provider offers {capability.name}; its own tests cover it")


def require_fault_injector(harness: ContractHarness) -> FaultInjector:
    """Return the driver as a fault injector, or skip the calling test."""
    driver = harness.driver
    if not isinstance(driver, FaultInjector):
        pytest.skip(
            f"the test driver {type(driver).__qualname__} has no fault injection "
            "(implement ams_billing.contracts.FaultInjector.fail_next to run the fault tests)"
        )
    return driver


Probe = Callable[[ContractHarness, Invoice], object]
"""Calls the operation behind a capability, on an invoice the provider holds."""

PROBES: dict[Capability, Probe] = {
    Capability.SEND_INVOICE: lambda h, invoice: h.service.send_invoice(invoice),
    Capability.VOID_INVOICE: lambda h, invoice: h.service.void_invoice(invoice.provider_id),
    Capability.ONLINE_INVOICE_URL: lambda h, invoice: h.service.get_invoice_url(
        invoice.provider_id
    ),
    Capability.CHANGED_SINCE: lambda h, invoice: h.service.get_invoices_changed_since(
        datetime(2000, 1, 1, tzinfo=UTC)
    ),
    Capability.WEBHOOKS: lambda h, invoice: h.service.parse_webhook(b"{}", {}),
}
"""For each capability, the call that must raise UnsupportedOperationError when it is absent."""
