"""The shared contract suite every ams-billing provider must pass.

Run it for an installed provider with no code::

    pytest --pyargs ams_billing.contracts --billing-provider=NAME

or subclass :class:`ProviderContract` in your own tests and implement ``make_harness``. The
suite needs the ``contracts`` extra (pytest and Hypothesis); importing the harness types does
not.
"""

from typing import TYPE_CHECKING, Any

from ams_billing.testing.harness import (
    ContractHarness,
    DraftMaker,
    EmailCounter,
    FaultInjector,
    IntentToReceiveSigner,
    ProviderTestDriver,
    Restart,
    SignedDelivery,
    WebhookSigner,
)

if TYPE_CHECKING:
    from ams_billing.contracts.base import ProviderContract

__all__ = [
    "ContractHarness",
    "DraftMaker",
    "EmailCounter",
    "FaultInjector",
    "IntentToReceiveSigner",
    "ProviderContract",
    "ProviderTestDriver",
    "Restart",
    "SignedDelivery",
    "WebhookSigner",
]


def __getattr__(name: str) -> Any:
    # ProviderContract needs pytest; load it only when asked for.
    if name == "ProviderContract":
        from ams_billing.contracts.base import ProviderContract  # noqa: PLC0415

        return ProviderContract
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
