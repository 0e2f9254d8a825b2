"""Contract: random operation sequences behave as they do on the fake provider."""

from __future__ import annotations

from typing import ClassVar, cast

from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from ams_billing.contracts.case import STATEFUL, ContractCase, HarnessFactory
from ams_billing.contracts.stateful import ProviderComparison

__all__ = ["StatefulContract"]


class StatefulContract(ContractCase):
    """The provider and the fake, side by side under :class:`ProviderComparison`."""

    stateful_settings: ClassVar[settings] = STATEFUL
    """Hypothesis settings of the comparison; a provider may raise ``max_examples`` in CI."""

    def test_provider_behaves_like_the_fake(self, harness_factory: HarnessFactory) -> None:
        # Hypothesis documents any zero-argument callable here; its annotation says a class.
        machine = cast("type[RuleBasedStateMachine]", lambda: ProviderComparison(harness_factory))
        run_state_machine_as_test(machine, settings=self.stateful_settings)
