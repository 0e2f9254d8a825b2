"""Test support for providers: the contract harness, the driver protocols and scratch stores.

What a provider author (or this project's tests) needs to put a provider under test, without
pytest or Hypothesis (those are :mod:`ams_billing.contracts`, the suite itself):

- :class:`ContractHarness`: a service, its test driver and the provider's currency, account and
  tax rate, a ``close``, an optional ``restart``, an optional ``expire_remote_keys`` and the
  provider's ``secrets`` (:mod:`ams_billing.testing.harness`);
- the driver protocols: :class:`ProviderTestDriver` (required) and the optional
  :class:`FaultInjector`, :class:`EmailCounter`, :class:`WebhookSigner`,
  :class:`IntentToReceiveSigner` and :class:`DraftMaker`, with :class:`SignedDelivery`, a
  webhook delivery as the provider sends it;
- :class:`ScratchStores`: durable stores in a temporary SQLite file, for a harness that
  restarts (:mod:`ams_billing.testing.scratch`);
- :class:`FakeDriver` and the fake provider's harness (:mod:`ams_billing.testing.fake`).

This is the testing layer: production code never imports it. A provider's harness factory is
registered under the entry-point group ``ams_billing.contract_harnesses``.
"""

from typing import TYPE_CHECKING, Any

from ams_billing.testing.harness import (
    ContractHarness,
    DraftMaker,
    EmailCounter,
    ExpireKeys,
    FaultInjector,
    IntentToReceiveSigner,
    ProviderTestDriver,
    Restart,
    SignedDelivery,
    WebhookSigner,
)

if TYPE_CHECKING:
    from ams_billing.testing.fake import FakeDriver
    from ams_billing.testing.scratch import ScratchStores

__all__ = [
    "ContractHarness",
    "DraftMaker",
    "EmailCounter",
    "ExpireKeys",
    "FakeDriver",
    "FaultInjector",
    "IntentToReceiveSigner",
    "ProviderTestDriver",
    "Restart",
    "ScratchStores",
    "SignedDelivery",
    "WebhookSigner",
]


def __getattr__(name: str) -> Any:
    # Loaded when asked for: the scratch stores bring SQLAlchemy, the driver the fake provider.
    if name == "ScratchStores":
        from ams_billing.testing.scratch import ScratchStores  # noqa: PLC0415

        return ScratchStores
    if name == "FakeDriver":
        from ams_billing.testing.fake import FakeDriver  # noqa: PLC0415

        return FakeDriver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
