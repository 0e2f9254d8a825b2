"""Providers that pass every contract but the loading one: the fake, built wrong for an AMS.

Not a test module: ``test_contract_loading_teeth.py`` copies it next to a zero-code run, which
loads each class by its path (``--billing-provider=contract_loading_broken.<Class>``). Each has
the fake's harness (``contract_harness``), which builds it directly, durable ledger included;
only ``load_service()`` sees the defect. ``BROKEN`` maps each to the tests that must fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ams_billing.core.ledger import IdempotencyStore
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing import ContractHarness
from ams_billing.testing.fake import restartable_harness


class FromEnvWithoutOptions(FakeProvider):
    """``from_env(cls, environ)``, as docs/providers.md once showed: no ``**options``."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> FromEnvWithoutOptions:  # type: ignore[override]
        return cls(webhook_key=environ.get("AMS_BILLING_FAKE_WEBHOOK_KEY"))

    @classmethod
    def contract_harness(cls) -> ContractHarness:
        return restartable_harness(cls)


class MisnamedLedger(FakeProvider):
    """Takes the ledger as ``ledger=``: load_service() never gives it one, so keys stay in memory.

    Its harness passes ``idempotency_store=`` through ``**options``, so every other contract,
    the restart ones included, sees a durable ledger.
    """

    def __init__(self, *, ledger: IdempotencyStore | None = None, **options: Any) -> None:
        options.setdefault("idempotency_store", ledger)
        super().__init__(**options)

    @classmethod
    def contract_harness(cls) -> ContractHarness:
        return restartable_harness(cls)


LOADED = "test_load_service_builds_the_provider_from_its_name"

BROKEN: dict[type[FakeProvider], set[str]] = {
    FromEnvWithoutOptions: {f"{LOADED}[durable]"},
    MisnamedLedger: {"test_the_durable_ledger_can_reach_the_provider"},
}
