"""BillingService's bulk operations: item checks, in-batch duplicates and the fallback loop."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ams_billing import (
    BatchItem,
    BatchOutcome,
    BillingService,
    Contact,
    IdempotencyConflictError,
    InvoiceRequest,
    LineItem,
    ProviderUnavailableError,
    ValidationError,
)
from ams_billing.core.hookspecs import OPERATION_HOOKS, OPTIONAL_OPERATION_HOOKS
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing.fake import FakeDriver


class SingleOnlyFake(FakeProvider):
    """A provider without bulk hooks (the overrides carry no hookimpl marker)."""

    def create_contacts(self, items: Sequence[Any]) -> Any:  # type: ignore[override]
        raise AssertionError("not a hook: the service must loop instead")

    def create_invoices(self, items: Sequence[Any]) -> Any:  # type: ignore[override]
        raise AssertionError("not a hook: the service must loop instead")


def _request(reference: str, account_code: str | None = None) -> InvoiceRequest:
    return InvoiceRequest(
        contact=Contact(f"acct-{reference}", f"Member {reference}"),
        line_items=[LineItem("Membership", Decimal(1), Decimal("10.00"), account_code)],
        currency="NZD",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        reference=reference,
    )


@pytest.fixture(params=[FakeProvider, SingleOnlyFake], ids=["native", "fallback"])
def provider(request: pytest.FixtureRequest) -> FakeProvider:
    provider: FakeProvider = request.param()
    return provider


def test_bulk_hooks_are_optional() -> None:
    assert not set(OPTIONAL_OPERATION_HOOKS) & set(OPERATION_HOOKS)
    BillingService(SingleOnlyFake())  # no ConfigurationError


def test_items_are_checked_and_duplicates_resolved(provider: FakeProvider) -> None:
    service = BillingService(provider)
    a, b = _request("a"), _request("b")
    items: list[Any] = [
        BatchItem(a, "k-a"),
        BatchItem(_request("bad", account_code="999"), "k-bad"),
        BatchItem(a, "k-a"),
        BatchItem(b, "k-a"),
        BatchItem(b, " "),
        BatchItem("not a request", "k-x"),
        "not an item",
    ]
    results = service.create_invoices(items)
    assert [r.outcome for r in results] == [
        BatchOutcome.CREATED,
        BatchOutcome.FAILED,
        BatchOutcome.EXISTING,
        *[BatchOutcome.FAILED] * 4,
    ]
    assert results[2].unwrap() == results[0].unwrap()
    fields = [r.error.fields if isinstance(r.error, ValidationError) else () for r in results]
    assert fields[1] == ("items[1].line_items[0].account_code",)
    assert isinstance(results[3].error, IdempotencyConflictError)
    assert fields[3:] == [
        ("items[3].idempotency_key",),
        ("items[4].idempotency_key",),
        ("items[5].request",),
        ("items[6]",),
    ]
    assert len(provider.invoices) == 1
    again = service.create_invoices(items[:1])
    assert again[0].outcome is BatchOutcome.EXISTING


def test_contacts_existing_once_known(provider: FakeProvider) -> None:
    service = BillingService(provider)
    ada = Contact("acct-ada", "Ada")
    first = service.create_contacts([BatchItem(ada, "c-1")])
    second = service.create_contacts([BatchItem(ada, "c-1"), BatchItem(ada, "c-2")])
    assert first[0].outcome is BatchOutcome.CREATED
    assert [r.outcome for r in second] == [BatchOutcome.EXISTING] * 2
    assert len(provider.contacts) == 1


def test_a_bulk_call_that_raises_fails_every_item_and_a_retry_succeeds() -> None:
    provider = FakeProvider()
    service = BillingService(provider)
    items = [BatchItem(_request("a"), "k-a"), BatchItem(_request("b"), "k-b")]
    FakeDriver(provider).fail_next(1, ProviderUnavailableError, operations=["create_invoices"])
    failed = service.create_invoices(items)
    assert all(isinstance(r.error, ProviderUnavailableError) for r in failed)
    assert provider.invoices == []
    FakeDriver(provider).fail_next(
        1, ProviderUnavailableError, operations=["create_invoices"], after_apply=True
    )
    lost = service.create_invoices(items)
    assert not any(r.ok for r in lost)
    retried = service.create_invoices(items)
    assert [r.outcome for r in retried] == [BatchOutcome.EXISTING] * 2
    assert len(provider.invoices) == 2


def test_listeners_hear_of_bulk_invoices() -> None:
    heard: list[str] = []

    class Listener:
        from ams_billing import hookimpl

        @hookimpl
        def invoice_changed(self, change: Any) -> None:
            heard.append(change.invoice.provider_id)

    provider = FakeProvider()
    service = BillingService(provider, listeners=[Listener()])
    [result] = service.create_invoices([BatchItem(_request("a"), "k-a")])
    FakeDriver(provider).record_payment(result.unwrap().provider_id, result.unwrap().total)
    service.create_invoices([BatchItem(_request("a"), "k-a")])
    assert heard == [result.unwrap().provider_id]
