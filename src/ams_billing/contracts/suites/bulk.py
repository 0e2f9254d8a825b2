"""Contract: ``create_contacts`` / ``create_invoices`` bill many, each item once, in order.

A provider need not implement the bulk hooks: the service then loops over the single-item
hooks, and these tests hold all the same. The fault tests need a driver that injects faults
into the bulk operations (``operations=["create_invoices"]``), so they run only for providers
with a native bulk hook.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from ams_billing.contracts.builders import invoice_request, make_contact, unique
from ams_billing.contracts.capabilities import require_capability, require_fault_injector
from ams_billing.contracts.case import ContractCase
from ams_billing.contracts.checks import invoices_with_reference
from ams_billing.contracts.suites.invoices import check_invoice_matches_request
from ams_billing.core.batch import BatchItem, BatchOutcome, BatchResult
from ams_billing.core.errors import (
    IdempotencyConflictError,
    ProviderUnavailableError,
    ValidationError,
)
from ams_billing.core.models import Capability, Invoice, InvoiceRequest, LineItem
from ams_billing.testing.harness import ContractHarness

__all__ = ["BulkContract"]


def _items(requests: list[InvoiceRequest]) -> list[BatchItem[InvoiceRequest]]:
    return [BatchItem(request, unique("invoice")) for request in requests]


def _invoices(results: list[BatchResult[Invoice]]) -> list[Invoice]:
    return [result.unwrap() for result in results]


def require_native_bulk(harness: ContractHarness) -> None:
    """Skip unless the provider implements ``create_invoices`` itself."""
    hook = harness.service.plugin_manager.hook.create_invoices
    if not any(not impl.wrapper for impl in hook.get_hookimpls()):
        pytest.skip("the provider has no create_invoices hook (the service loops instead)")


def _count_with_reference(harness: ContractHarness, since: datetime, reference: str | None) -> int:
    return len(invoices_with_reference(harness, since, reference))


class BulkContract(ContractCase):
    """Bulk creates: per-item results in order, per-item idempotency, per-item errors."""

    def test_results_come_in_input_order(self, harness: ContractHarness) -> None:
        requests = [invoice_request(harness) for _ in range(3)]
        items = _items(requests)
        results = harness.service.create_invoices(items)
        assert [r.index for r in results] == [0, 1, 2]
        assert [r.idempotency_key for r in results] == [item.idempotency_key for item in items]
        assert [r.idempotency_key for r in results] == [i.idempotency_key for i in items]
        assert [r.outcome for r in results] == [BatchOutcome.CREATED] * 3
        for request, invoice in zip(requests, _invoices(results), strict=True):
            check_invoice_matches_request(
                invoice, request, harness.tax_rate, behaviour=harness.service.behaviour
            )
        assert len({invoice.provider_id for invoice in _invoices(results)}) == 3

    def test_invalid_items_fail_alone_naming_the_item(self, harness: ContractHarness) -> None:
        good = invoice_request(harness)
        bad = invoice_request(harness)
        bad = attrs.evolve(
            bad, line_items=[attrs.evolve(bad.line_items[0], account_code="ZZNOSUCH9")]
        )
        items = [*_items([good, bad, invoice_request(harness)]), BatchItem(good, "")]
        results = harness.service.create_invoices(items)
        assert [r.ok for r in results] == [True, False, True, False]
        error = results[1].error
        assert isinstance(error, ValidationError)
        assert "items[1].line_items[0].account_code" in error.fields, error.fields
        assert isinstance(results[3].error, ValidationError)
        assert results[3].error.fields == ("items[3].idempotency_key",)
        if Capability.CHANGED_SINCE in harness.service.capabilities:
            since = results[0].unwrap().updated_at - timedelta(seconds=1)
            assert _count_with_reference(harness, since, bad.reference) == 0

    def test_retried_batch_creates_nothing_new(self, harness: ContractHarness) -> None:
        items = _items([invoice_request(harness) for _ in range(3)])
        first = _invoices(harness.service.create_invoices(items))
        again = harness.service.create_invoices(items)
        assert [r.outcome for r in again] == [BatchOutcome.EXISTING] * 3
        assert [i.provider_id for i in _invoices(again)] == [i.provider_id for i in first]
        if Capability.CHANGED_SINCE in harness.service.capabilities:
            since = min(i.updated_at for i in first) - timedelta(seconds=1)
            for item in items:
                assert _count_with_reference(harness, since, item.request.reference) == 1

    def test_single_create_then_batch_is_existing(self, harness: ContractHarness) -> None:
        request = invoice_request(harness)
        key = unique("invoice")
        single = harness.service.create_invoice(request, idempotency_key=key)
        [result] = harness.service.create_invoices([BatchItem(request, key)])
        assert result.outcome is BatchOutcome.EXISTING
        assert result.unwrap().provider_id == single.provider_id

    def test_key_reused_for_another_request_fails_that_item_only(
        self, harness: ContractHarness
    ) -> None:
        request = invoice_request(harness)
        key = unique("invoice")
        harness.service.create_invoice(request, idempotency_key=key)
        changed = attrs.evolve(
            request, line_items=[*request.line_items, LineItem("Late fee", Decimal(1), Decimal(5))]
        )
        other = invoice_request(harness)
        twice = unique("invoice")
        items = [
            BatchItem(other, twice),
            BatchItem(changed, key),
            BatchItem(other, twice),
            BatchItem(request, twice),
        ]
        results = harness.service.create_invoices(items)
        assert [r.outcome for r in results] == [
            BatchOutcome.CREATED,
            BatchOutcome.FAILED,
            BatchOutcome.EXISTING,
            BatchOutcome.FAILED,
        ]
        for index in (1, 3):
            error = results[index].error
            assert isinstance(error, IdempotencyConflictError)
            assert f"items[{index}].idempotency_key" in error.fields
        assert results[2].unwrap().provider_id == results[0].unwrap().provider_id

    def test_bulk_totals_match_single_creates(self, harness: ContractHarness) -> None:
        lines = [("2", "60.00"), ("1", "19.99"), ("3", "0.3333")]
        single_request = invoice_request(harness, lines=lines)
        single = harness.service.create_invoice(single_request, idempotency_key=unique("invoice"))
        bulk_request = attrs.evolve(single_request, reference=unique("ref"))
        [result] = harness.service.create_invoices(_items([bulk_request]))
        bulk = result.unwrap()
        assert (bulk.subtotal, bulk.total_tax, bulk.total) == (
            single.subtotal,
            single.total_tax,
            single.total,
        )
        assert [(line.line_amount, line.tax_amount) for line in bulk.line_items] == [
            (line.line_amount, line.tax_amount) for line in single.line_items
        ]

    def test_contacts_in_bulk_are_created_once_per_reference(
        self, harness: ContractHarness
    ) -> None:
        contacts = [make_contact(), make_contact(email=None)]
        items = [BatchItem(contact, unique("contact")) for contact in contacts]
        results = harness.service.create_contacts(items)
        assert [r.outcome for r in results] == [BatchOutcome.CREATED] * 2
        records = [r.unwrap() for r in results]
        assert [(r.account_reference, r.name, r.email) for r in records] == [
            (c.account_reference, c.name, c.email) for c in contacts
        ]
        again = harness.service.create_contacts(items)
        assert [r.outcome for r in again] == [BatchOutcome.EXISTING] * 2
        assert [r.unwrap().provider_id for r in again] == [r.provider_id for r in records]
        moved = attrs.evolve(contacts[0], email="moved@example.org")
        [updated] = harness.service.create_contacts([BatchItem(moved, unique("contact"))])
        assert updated.outcome is BatchOutcome.EXISTING
        assert (updated.unwrap().provider_id, updated.unwrap().email) == (
            records[0].provider_id,
            "moved@example.org",
        )

    def test_contact_key_reused_for_another_contact_conflicts(
        self, harness: ContractHarness
    ) -> None:
        key = unique("contact")
        items = [BatchItem(make_contact(), key), BatchItem(make_contact(), key)]
        results = harness.service.create_contacts(items)
        assert results[0].ok
        assert isinstance(results[1].error, IdempotencyConflictError)

    def test_fault_before_apply_creates_nothing_and_a_retry_succeeds(
        self, harness: ContractHarness
    ) -> None:
        faults = require_fault_injector(harness)
        require_native_bulk(harness)
        anchor = harness.service.create_invoice(
            invoice_request(harness), idempotency_key=unique("invoice")
        )
        items = _items([invoice_request(harness) for _ in range(2)])
        faults.fail_next(1, ProviderUnavailableError, operations=["create_invoices"])
        failed = harness.service.create_invoices(items)
        assert all(isinstance(r.error, ProviderUnavailableError) for r in failed)
        since = anchor.updated_at - timedelta(seconds=1)
        changed_since = Capability.CHANGED_SINCE in harness.service.capabilities
        if changed_since:
            for item in items:
                assert _count_with_reference(harness, since, item.request.reference) == 0
        retried = harness.service.create_invoices(items)
        assert [r.outcome for r in retried] == [BatchOutcome.CREATED] * 2
        if changed_since:
            for item in items:
                assert _count_with_reference(harness, since, item.request.reference) == 1

    def test_lost_response_then_retry_creates_no_duplicates(self, harness: ContractHarness) -> None:
        faults = require_fault_injector(harness)
        require_native_bulk(harness)
        require_capability(harness, Capability.CHANGED_SINCE)
        anchor = harness.service.create_invoice(
            invoice_request(harness), idempotency_key=unique("invoice")
        )
        items = _items([invoice_request(harness) for _ in range(3)])
        faults.fail_next(
            1, ProviderUnavailableError, operations=["create_invoices"], after_apply=True
        )
        lost = harness.service.create_invoices(items)
        assert all(isinstance(r.error, ProviderUnavailableError) for r in lost)
        retried = harness.service.create_invoices(items)
        assert [r.outcome for r in retried] == [BatchOutcome.EXISTING] * 3
        since = anchor.updated_at - timedelta(seconds=1)
        for item, result in zip(items, retried, strict=True):
            found = invoices_with_reference(harness, since, item.request.reference)
            assert [i.provider_id for i in found] == [result.unwrap().provider_id]
