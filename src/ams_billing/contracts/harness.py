"""What the contract suite needs from a provider under test: a service and a test driver.

A provider author supplies a :class:`ContractHarness` through one factory: subclass
:class:`~ams_billing.contracts.ProviderContract` and implement ``make_harness``, or give the
provider class a ``contract_harness()`` class method for the zero-code run
(``pytest --pyargs ams_billing.contracts --billing-provider=NAME``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs

from ams_billing.core.errors import BillingError
from ams_billing.core.service import BillingService

__all__ = ["ContractHarness", "FaultInjector", "ProviderTestDriver", "SignedDelivery"]


@attrs.frozen
class SignedDelivery:
    """A webhook delivery exactly as the provider would send it: raw body and headers."""

    body: bytes
    headers: Mapping[str, str]


@runtime_checkable
class ProviderTestDriver(Protocol):
    """Acts as the world outside the AMS: the member paying, the provider calling back."""

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        """Record a payment against the invoice as if the member paid in the provider."""

    def take_webhook_deliveries(self) -> list[SignedDelivery]:
        """Return the signed deliveries the provider produced since the last call."""


@runtime_checkable
class FaultInjector(Protocol):
    """Optional: a driver that can make the provider fail on purpose."""

    def fail_next(
        self,
        count: int,
        error: type[BillingError],
        *,
        operations: Iterable[str] | None = None,
        after_apply: bool = False,
    ) -> None:
        """Fail the next ``count`` operations (of ``operations``, default all) with ``error``.

        With ``after_apply`` the change is made first and the error raised afterwards, as when
        a response is lost on its way back: a retry with the same idempotency key must then
        return the first result and create nothing more.
        """


@attrs.define
class ContractHarness:
    """Everything one contract test needs; ``close`` releases it.

    ``currency`` and ``account_code`` must be accepted by the provider; ``tax_rate`` is the
    rate (a fraction) the provider applies to lines on ``account_code``, or ``None`` if the
    suite should only check totals for internal consistency.
    """

    service: BillingService
    driver: ProviderTestDriver
    currency: str = "NZD"
    account_code: str | None = None
    tax_rate: Decimal | None = None
    close: Callable[[], None] = attrs.field(default=lambda: None)
