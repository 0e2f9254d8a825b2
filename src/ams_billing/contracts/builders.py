"""Small builders for the example tests: unique names, contacts, requests and invoices.

Every example test works on records no other test touches (its own account reference, invoice
reference and idempotency keys), so the suite also runs against a provider whose books are not
empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ams_billing.contracts.strategies import TODAY
from ams_billing.core.models import AmountType, Contact, Invoice, InvoiceRequest, LineItem
from ams_billing.testing.harness import ContractHarness

__all__ = [
    "ISSUE_DATE",
    "LONG_AGO",
    "create_invoice",
    "invoice_request",
    "make_contact",
    "unique",
    "unpaid_invoice",
]

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
"""A ``since`` before anything a provider under test can hold."""

ISSUE_DATE = TODAY
"""The issue date of the example tests' invoices: today (the session's), due 30 days later, so
a provider that refuses past due dates bills them too."""


def unique(prefix: str) -> str:
    """A value no other test or run uses: ``prefix`` and 12 random hex digits."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def make_contact(
    *, email: str | None = "member@example.org", name: str = "Ada Lovelace"
) -> Contact:
    """A contact with a fresh account reference."""
    reference = unique("contract")
    return Contact(account_reference=reference, name=f"{name} ({reference})", email=email)


def invoice_request(
    harness: ContractHarness,
    *,
    contact: Contact | None = None,
    lines: Sequence[tuple[str, str]] = (("1", "100.00"),),
    amount_type: AmountType | None = AmountType.EXCLUSIVE,
    currency: str | None = None,
    account_code: str | None = None,
) -> InvoiceRequest:
    """A request with a fresh contact and reference; ``lines`` are (quantity, unit amount).

    ``amount_type=None`` leaves the amount type to the provider's default.
    """
    return InvoiceRequest(
        contact=contact or make_contact(),
        line_items=[
            LineItem(f"Membership item {index + 1}", Decimal(quantity), Decimal(unit))
            for index, (quantity, unit) in enumerate(lines)
        ],
        currency=currency or harness.currency,
        issue_date=ISSUE_DATE,
        due_date=ISSUE_DATE + timedelta(days=30),
        reference=unique("ref"),
        amount_type=amount_type,
        account_code=account_code or harness.account_code,
    )


def create_invoice(
    harness: ContractHarness, request: InvoiceRequest | None = None, *, key: str | None = None
) -> Invoice:
    """Create ``request`` (a default one when omitted) under a fresh idempotency key."""
    return harness.service.create_invoice(
        request or invoice_request(harness), idempotency_key=key or unique("invoice")
    )


def unpaid_invoice(
    harness: ContractHarness, *, email: str | None = "member@example.org"
) -> Invoice:
    """An OPEN invoice with a positive total and nothing paid."""
    request = invoice_request(harness, contact=make_contact(email=email))
    return create_invoice(harness, request)
