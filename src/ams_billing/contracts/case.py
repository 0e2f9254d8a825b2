"""The base of every contract test class: the harness fixtures and where the harness comes from.

:class:`ContractCase` turns one factory method, ``make_harness``, into two fixtures: ``harness``
(a fresh harness per test, closed afterwards) and ``harness_factory`` (for the state machine,
which needs a fresh harness per run). :class:`CommandLineProvider` is the variant the zero-code
run uses: its harness comes from ``--billing-provider``. The Hypothesis settings of the suite are
here too, explicit, so a project's own Hypothesis profile does not change what the suite runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, Phase, settings

from ams_billing.contracts.plugin import HARNESS_FACTORY_KEY
from ams_billing.testing.harness import ContractHarness

__all__ = [
    "EXAMPLES",
    "STATEFUL",
    "CommandLineProvider",
    "ContractCase",
    "HarnessFactory",
]

HarnessFactory = Callable[[], ContractHarness]
"""Builds a fresh, independent harness each time it is called."""

_SUPPRESSED = [
    # Examples share the test's harness on purpose: each works on its own keys and records.
    HealthCheck.function_scoped_fixture,
    # Every provider's test class inherits the same generated tests; no example database is
    # kept, so running them from several classes is safe.
    HealthCheck.differing_executors,
    HealthCheck.too_slow,
]

# No "explain" phase: on a failure it reruns the test thousands of times to annotate the report.
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]

EXAMPLES = settings(
    max_examples=30,
    phases=_PHASES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=_SUPPRESSED,
)
"""Settings of the generated (property) tests: bounded, deterministic, no example database."""

STATEFUL = settings(
    max_examples=40,
    phases=_PHASES,
    stateful_step_count=20,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=_SUPPRESSED,
)
"""Settings of the state machine that compares a provider with the fake."""

NO_PROVIDER_REASON = (
    "the zero-code contract run needs a provider: pass --billing-provider=NAME, where NAME is "
    "an entry-point name in the group ams_billing.providers (e.g. fake) or a class path "
    "(e.g. ams_billing.providers.fake.FakeProvider); or subclass "
    "ams_billing.contracts.ProviderContract and implement make_harness()"
)


class ContractCase:
    """Fixtures shared by every contract mixin; subclasses implement :meth:`make_harness`."""

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [pytest.mark.contract]

    def make_harness(self) -> ContractHarness:
        """Return a fresh harness for one test: a new provider instance and its driver.

        Called once per test, and once per run of the state machine; each harness is closed with
        ``harness.close()`` when done. The generated tests share their test's harness between
        examples, each example on its own keys and records.
        """
        raise NotImplementedError(
            f"{type(self).__qualname__} must implement make_harness() -> ContractHarness"
        )

    def _harness_factory(self, config: pytest.Config) -> HarnessFactory:
        """Where harnesses come from; the zero-code run overrides this."""
        return self.make_harness

    @pytest.fixture
    def harness_factory(self, request: pytest.FixtureRequest) -> HarnessFactory:
        """The factory itself, for tests that need several independent harnesses."""
        return self._harness_factory(request.config)

    @pytest.fixture
    def harness(self, harness_factory: HarnessFactory) -> Iterator[ContractHarness]:
        """A fresh harness for this test, closed afterwards."""
        harness = harness_factory()
        try:
            yield harness
        finally:
            harness.close()


class CommandLineProvider(ContractCase):
    """Takes the harness from ``--billing-provider`` (the zero-code run), or skips."""

    def _harness_factory(self, config: pytest.Config) -> HarnessFactory:
        factory = config.stash.get(HARNESS_FACTORY_KEY, None)
        if factory is None:
            pytest.skip(NO_PROVIDER_REASON)
        return factory
