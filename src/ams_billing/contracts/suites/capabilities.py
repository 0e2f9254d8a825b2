"""Contract: capabilities are declared, and an absent one is refused with a typed error."""

from __future__ import annotations

import pytest

from ams_billing.contracts.builders import unpaid_invoice
from ams_billing.contracts.capabilities import PROBES, require_no_capability
from ams_billing.contracts.case import ContractCase
from ams_billing.core.errors import UnsupportedOperationError
from ams_billing.core.models import Capability
from ams_billing.testing.harness import ContractHarness

__all__ = ["CapabilityContract"]


class CapabilityContract(ContractCase):
    """``get_capabilities``, and what happens when one is missing."""

    def test_capabilities_are_capability_members(self, harness: ContractHarness) -> None:
        capabilities = harness.service.capabilities
        assert all(isinstance(item, Capability) for item in capabilities), capabilities

    @pytest.mark.parametrize("capability", list(Capability), ids=lambda c: c.value)
    def test_absent_capability_is_unsupported(
        self, harness: ContractHarness, capability: Capability
    ) -> None:
        require_no_capability(harness, capability)
        invoice = unpaid_invoice(harness)
        with pytest.raises(UnsupportedOperationError):
            PROBES[capability](harness, invoice)
