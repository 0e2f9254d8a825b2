"""Contract: reading invoices by id, changed since a time, and the online invoice URL."""

from __future__ import annotations

import uuid
from datetime import timedelta, timezone
from urllib.parse import urlsplit

import pytest

from ams_billing.contracts.builders import create_invoice, invoice_request, unpaid_invoice
from ams_billing.contracts.capabilities import require_capability, require_draft_maker
from ams_billing.contracts.case import ContractCase
from ams_billing.core.errors import InvalidStateError, NotFoundError
from ams_billing.core.models import Capability, Invoice, InvoiceStatus
from ams_billing.testing.harness import ContractHarness

__all__ = ["ReadContract"]


def _unknown_id() -> str:
    # Providers key invoices on UUIDs (Xero does); a random one is unknown to all of them.
    return str(uuid.uuid4())


def _stable(invoice: Invoice) -> tuple[object, ...]:
    """What a read must repeat of the invoice as created (nothing happened in between)."""
    return (
        invoice.provider_id,
        invoice.number,
        invoice.status,
        invoice.contact.provider_id,
        invoice.currency,
        invoice.issue_date,
        invoice.due_date,
        invoice.reference,
        invoice.amount_type,
        invoice.subtotal,
        invoice.total_tax,
        invoice.total,
        invoice.amount_paid,
        invoice.amount_due,
        tuple((line.line_amount, line.tax_amount) for line in invoice.line_items),
    )


class ReadContract(ContractCase):
    """``get_invoices``, ``get_invoice``, ``get_invoices_changed_since``, ``get_invoice_url``."""

    def test_read_repeats_the_created_invoice(self, harness: ContractHarness) -> None:
        invoice = create_invoice(harness)
        read = harness.service.get_invoice(invoice.provider_id)
        assert _stable(read) == _stable(invoice)
        assert read.updated_at >= invoice.updated_at
        assert read.updated_at.tzinfo is not None

    def test_get_invoices_leaves_out_unknown_ids_and_reads_duplicates_once(
        self, harness: ContractHarness
    ) -> None:
        first, second = create_invoice(harness), create_invoice(harness)
        ids = [first.provider_id, _unknown_id(), second.provider_id, first.provider_id]
        found = harness.service.get_invoices(ids)
        assert sorted(invoice.provider_id for invoice in found) == sorted(
            [first.provider_id, second.provider_id]
        )

    def test_get_invoices_of_only_unknown_ids_is_empty(self, harness: ContractHarness) -> None:
        create_invoice(harness)
        assert harness.service.get_invoices([_unknown_id()]) == []

    def test_get_invoice_of_an_unknown_id_raises_not_found(self, harness: ContractHarness) -> None:
        unknown = _unknown_id()
        with pytest.raises(NotFoundError) as raised:
            harness.service.get_invoice(unknown)
        assert raised.value.resource_id == unknown

    def test_changed_since_includes_changes_at_or_after_since(
        self, harness: ContractHarness
    ) -> None:
        require_capability(harness, Capability.CHANGED_SINCE)
        first = unpaid_invoice(harness)
        second = create_invoice(harness)
        found = {
            i.provider_id for i in harness.service.get_invoices_changed_since(first.updated_at)
        }
        assert {first.provider_id, second.provider_id} <= found

    def test_changed_since_reports_a_payment_made_later(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.CHANGED_SINCE)
        invoice = unpaid_invoice(harness)
        later = create_invoice(harness)
        harness.driver.record_payment(invoice.provider_id, invoice.amount_due)
        since = harness.service.get_invoice(later.provider_id).updated_at
        changed = harness.service.get_invoices_changed_since(since)
        [paid] = [i for i in changed if i.provider_id == invoice.provider_id]
        assert paid.is_paid
        assert paid.updated_at >= since

    def test_changed_since_leaves_out_older_changes(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.CHANGED_SINCE)
        invoice = create_invoice(harness)
        future = invoice.updated_at + timedelta(days=1)
        found = harness.service.get_invoices_changed_since(future)
        assert invoice.provider_id not in {i.provider_id for i in found}

    @pytest.mark.parametrize("hours", [13, 5.5, -5, -9.5], ids=lambda h: f"UTC{h:+g}")
    def test_changed_since_honours_the_offset_of_since(
        self, harness: ContractHarness, hours: float
    ) -> None:
        require_capability(harness, Capability.CHANGED_SINCE)
        invoice = create_invoice(harness)
        zone = timezone(timedelta(hours=hours))
        # The same instants, written in another zone: read as UTC they move by ``hours``.
        before = (invoice.updated_at - timedelta(seconds=1)).astimezone(zone)
        after = (invoice.updated_at + timedelta(minutes=30)).astimezone(zone)
        found = {i.provider_id for i in harness.service.get_invoices_changed_since(before)}
        assert invoice.provider_id in found
        later = {i.provider_id for i in harness.service.get_invoices_changed_since(after)}
        assert invoice.provider_id not in later

    def test_invoice_url_is_a_web_address(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.ONLINE_INVOICE_URL)
        invoice = create_invoice(harness)
        url = harness.service.get_invoice_url(invoice.provider_id)
        parts = urlsplit(url)
        assert parts.scheme in {"https", "http"}
        assert parts.netloc

    def test_invoice_url_of_an_unknown_id_raises_not_found(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.ONLINE_INVOICE_URL)
        unknown = _unknown_id()
        with pytest.raises(NotFoundError) as raised:
            harness.service.get_invoice_url(unknown)
        assert raised.value.resource_id == unknown

    def test_draft_invoice_has_no_online_url(self, harness: ContractHarness) -> None:
        require_capability(harness, Capability.ONLINE_INVOICE_URL)
        draft = require_draft_maker(harness).create_draft_invoice(invoice_request(harness))
        assert draft.status is InvoiceStatus.DRAFT
        assert harness.service.get_invoice(draft.provider_id).status is InvoiceStatus.DRAFT
        with pytest.raises(InvalidStateError):
            harness.service.get_invoice_url(draft.provider_id)
