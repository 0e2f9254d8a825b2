"""The fake provider's contract harness: its own books, a ledger, and a restart.

:func:`restartable_harness` is what ``FakeBillingService.contract_harness()`` returns (and so
what ``pytest --pyargs ams_billing.contracts --billing-provider=fake`` runs). Its ``restart``
builds a new instance over the same books, as after the AMS process restarted, and has the
books forget their idempotency keys, as the accounting system's window passing would.
"""

from __future__ import annotations

import secrets

from ams_billing.contracts.harness import ContractHarness
from ams_billing.contracts.scratch import ScratchStores
from ams_billing.core.service import BillingService
from ams_billing.providers.fake.books import FakeBooks
from ams_billing.providers.fake.provider import FakeBillingService

__all__ = ["restartable_harness"]


def restartable_harness(
    provider_class: type[FakeBillingService] = FakeBillingService, *, durable: bool = True
) -> ContractHarness:
    """A harness over a fresh fake (of ``provider_class``) whose ``restart`` keeps its books.

    With ``durable`` (the default) the ledger and the invoice states are kept in an SQLite file
    in a temporary directory, deleted by ``close``: they survive the restart, as on the SQL
    stores of a deployment. Without it they are in memory and lost at each restart, as in a
    provider that keeps no durable ledger: the restart tests must fail for that one.
    """
    scratch = ScratchStores() if durable else None
    books = FakeBooks()
    webhook_key = secrets.token_urlsafe(32)

    def build() -> tuple[FakeBillingService, BillingService]:
        stores = scratch.stores if scratch is not None else None
        provider = provider_class(
            webhook_key=webhook_key,
            books=books,
            idempotency_store=stores.idempotency if stores is not None else None,
        )
        state = stores.invoice_state if stores is not None else None
        return provider, BillingService(provider, state_store=state)

    def restart() -> BillingService:
        books.expire_keys()
        return build()[1]

    provider, service = build()
    return ContractHarness(
        service=service,
        driver=provider,
        currency="NZD",
        account_code="200",
        tax_rate=provider.accounts["200"],
        close=scratch.close if scratch is not None else lambda: None,
        other_currencies=("JPY", "USD"),
        restart=restart,
    )
