"""The shared contract suite, run against this provider by subclassing ProviderContract."""

from ams_billing_sqlite import SqliteProvider

from ams_billing.contracts import ProviderContract
from ams_billing.testing import ContractHarness


class TestSqliteProvider(ProviderContract):
    provider_name = "sqlite"  # the loading tests build it with load_service("sqlite") too

    def make_harness(self) -> ContractHarness:
        return SqliteProvider.contract_harness()
