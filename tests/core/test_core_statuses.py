"""The neutral statuses: the old Xero names still work, with a warning in code, silently in rows."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ams_billing import AmountType, ContactRecord, Invoice, InvoiceStatus
from ams_billing.core.convert import structure, unstructure

RENAMED = [("SUBMITTED", "AWAITING_APPROVAL"), ("AUTHORISED", "OPEN"), ("VOIDED", "VOID")]


def test_the_statuses_are_the_neutral_set_named_by_their_values() -> None:
    assert [status.name for status in InvoiceStatus] == [
        "DRAFT",
        "AWAITING_APPROVAL",
        "OPEN",
        "PAID",
        "VOID",
        "UNCOLLECTIBLE",
        "DELETED",
    ]
    assert all(status.value == status.name for status in InvoiceStatus)


@pytest.mark.parametrize(("old", "new"), RENAMED)
def test_an_old_name_in_code_warns_and_is_the_new_member(old: str, new: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"InvoiceStatus\.{old} .*InvoiceStatus\.{new}"):
        member = getattr(InvoiceStatus, old)
    assert member is InvoiceStatus[new]


@pytest.mark.parametrize(("old", "new"), RENAMED)
def test_an_old_stored_value_reads_as_the_new_member_without_a_warning(old: str, new: str) -> None:
    # filterwarnings = error: a warning here would fail the test.
    assert InvoiceStatus(old) is InvoiceStatus[new]


def test_old_names_are_not_members_and_unknown_names_still_fail() -> None:
    assert len(InvoiceStatus) == 7
    assert "AUTHORISED" not in InvoiceStatus.__members__
    with pytest.raises(ValueError, match="UNKNOWN"):
        InvoiceStatus("UNKNOWN")
    with pytest.raises(AttributeError):
        InvoiceStatus.UNKNOWN  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(KeyError):
        InvoiceStatus["AUTHORISED"]


def test_members_pickle_and_compare_as_before() -> None:
    assert pickle.loads(pickle.dumps(InvoiceStatus.OPEN)) is InvoiceStatus.OPEN
    assert InvoiceStatus.OPEN != InvoiceStatus.PAID


def test_an_invoice_remembered_before_the_rename_reads_back() -> None:
    # What a durable idempotency ledger held for an invoice: Xero's name, no provider_status.
    invoice = Invoice(
        provider_id="inv-1",
        number="INV-0001",
        status=InvoiceStatus.OPEN,
        contact=ContactRecord("c-1", "acct-1", "Ada"),
        currency="NZD",
        issue_date=date(2026, 7, 1),
        due_date=None,
        reference=None,
        amount_type=AmountType.EXCLUSIVE,
        subtotal=Decimal(10),
        total_tax=Decimal(0),
        total=Decimal(10),
        amount_paid=Decimal(0),
        amount_due=Decimal(10),
        updated_at=datetime(2026, 7, 1, tzinfo=UTC),
    )
    remembered = unstructure(invoice)
    del remembered["provider_status"]
    remembered["status"] = "AUTHORISED"
    assert structure(remembered, Invoice) == invoice
