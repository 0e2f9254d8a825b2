"""Contract: the provider loads as an AMS loads it, by the name it is installed under.

Every other test gets its provider from the harness, built by the author's own code; an AMS
builds it with ``load_service()``, from ``AMS_BILLING_SERVICE_CLASS`` and the environment,
handing ``from_env`` the durable ledger as ``idempotency_store=``. A provider can pass every
other contract and still fail there (a ``from_env(cls, environ)`` without ``**options``; a
ledger parameter named so that ``load_service()`` cannot see it), so these tests build it that
way, from the name the run was started with (``--billing-provider=NAME``) and the harness's
:attr:`~ams_billing.testing.harness.ContractHarness.environ`.

A suite that subclasses :class:`~ams_billing.contracts.ProviderContract` has no name to load by
unless it sets :attr:`LoadingContract.provider_name`; the tests skip, saying so, otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from ams_billing.assembly.building import ledger_warning, misnamed_ledger_parameters
from ams_billing.assembly.loading import load_service, resolve_provider_class
from ams_billing.contracts.case import CommandLineProvider, ContractCase
from ams_billing.contracts.plugin import OPTION
from ams_billing.core.models import InvoiceDefaults
from ams_billing.testing.harness import ContractHarness
from ams_billing.testing.scratch import ScratchStores

__all__ = ["NO_NAME_REASON", "LoadingContract"]

NO_NAME_REASON = (
    "load_service() builds a provider from the name it is installed under, and this run has "
    f"none: its harness comes from make_harness(). Set provider_name = 'NAME' on the test class "
    f"(NAME: its entry point in ams_billing.providers), or run the zero-code suite with {OPTION}"
    "=NAME"
)


class LoadingContract(ContractCase):
    """``load_service()`` builds the provider by its name, over durable and memory stores."""

    provider_name: ClassVar[str | None] = None
    """The name to load the provider by (its entry point); the zero-code run's by default."""

    @pytest.fixture
    def loaded_name(self, request: pytest.FixtureRequest) -> str:
        """The name the provider is loaded by, or skip."""
        name = self.provider_name
        if name is None and isinstance(self, CommandLineProvider):
            name = request.config.getoption("billing_provider", default=None)
        if not name:
            pytest.skip(NO_NAME_REASON)
        return name

    @pytest.fixture
    def durable(self) -> Iterator[ScratchStores]:
        """Durable stores in a temporary SQLite file, as a deployment has."""
        scratch = ScratchStores()
        try:
            yield scratch
        finally:
            scratch.close()

    @pytest.mark.parametrize("stores", ["durable", "memory"])
    def test_load_service_builds_the_provider_from_its_name(
        self, harness: ContractHarness, loaded_name: str, durable: ScratchStores, stores: str
    ) -> None:
        # Durable stores make load_service() pass the ledger (idempotency_store=) to from_env.
        service = load_service(
            loaded_name,
            environ=dict(harness.environ),
            stores=durable.stores if stores == "durable" else "memory:",
        )
        try:
            provider_class = resolve_provider_class(loaded_name)
            assert isinstance(service.provider, provider_class)
            assert isinstance(service.invoice_defaults, InvoiceDefaults)
        finally:
            service.close()

    def test_the_durable_ledger_can_reach_the_provider(self, loaded_name: str) -> None:
        provider_class = resolve_provider_class(loaded_name)
        misnamed = misnamed_ledger_parameters(provider_class)
        assert not misnamed, ledger_warning(provider_class, misnamed)
