"""The organisation's books: contacts, invoices, payments, accounts, tax rates, currencies.

Plain mutable attrs records guarded by the engine's lock; the API modules turn them into Xero
JSON. ``extra`` fields keep writable properties the emulator stores but does not interpret
(addresses, phones, tracking...), so they round-trip.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .config import EmulatorConfig
from .ids import IdFactory

__all__ = [
    "Account",
    "Books",
    "BooksSnapshot",
    "Contact",
    "Invoice",
    "LineItem",
    "Payment",
    "TaxRate",
]


@attrs.define
class Account:
    """A chart-of-accounts entry."""

    account_id: str
    code: str
    name: str
    type: str
    tax_type: str
    status: str
    enable_payments: bool
    bank_account_number: str | None
    system_account: str | None
    updated: datetime

    @property
    def account_class(self) -> str:
        """Xero's read-only ``Class`` derived from ``Type``."""
        return _ACCOUNT_CLASS.get(self.type, "ASSET")

    @property
    def accepts_payments(self) -> bool:
        """Whether payments may be made to/from this account (BANK or enabled)."""
        return self.status == "ACTIVE" and (self.type == "BANK" or self.enable_payments)


_ACCOUNT_CLASS = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "EQUITY": "EQUITY",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
    "OTHERINCOME": "REVENUE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "DEPRECIATN": "EXPENSE",
}


@attrs.define
class TaxRate:
    """A tax rate; ``rate`` is a percentage."""

    tax_type: str
    name: str
    rate: Decimal


@attrs.define
class Contact:
    """A contact (customer or supplier)."""

    contact_id: str
    name: str
    updated: datetime
    status: str = "ACTIVE"
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    contact_number: str | None = None
    account_number: str | None = None
    is_customer: bool = False
    is_supplier: bool = False
    extra: dict[str, Any] = attrs.field(factory=dict)


@attrs.define
class LineItem:
    """An invoice line with its computed amounts."""

    line_item_id: str
    description: str | None
    quantity: Decimal
    unit_amount: Decimal
    account_code: str | None
    tax_type: str
    tax_amount: Decimal
    line_amount: Decimal
    discount_rate: Decimal | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)


@attrs.define
class Invoice:
    """An invoice (ACCREC or ACCPAY)."""

    invoice_id: str
    type: str
    contact_id: str
    status: str
    line_amount_types: str
    date: dt.date
    due_date: dt.date | None
    currency_code: str
    updated: datetime
    invoice_number: str = ""
    reference: str | None = None
    line_items: list[LineItem] = attrs.field(factory=list)
    sub_total: Decimal = Decimal("0.00")
    total_tax: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    amount_paid: Decimal = Decimal("0.00")
    fully_paid_on: dt.date | None = None
    sent_to_contact: bool = False
    url: str | None = None
    online_code: str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)

    @property
    def amount_due(self) -> Decimal:
        """What is still owed: nothing on a VOIDED invoice, whatever its total.

        Xero's OpenAPI spec (``xero_accounting.yaml`` 16.1.0, ``GET /Invoices``, 200 response
        example, ``Invoices[0]``, INV-0001) shows a VOIDED invoice with ``Total: 40.00``,
        ``AmountPaid: 0.00`` and ``AmountDue: 0.00``. Xero documents nothing for DELETED.
        """
        if self.status == "VOIDED":
            return Decimal("0.00")
        return self.total - self.amount_paid


@attrs.define
class Payment:
    """A payment applied to an invoice."""

    payment_id: str
    invoice_id: str
    account_id: str
    date: dt.date
    amount: Decimal
    updated: datetime
    reference: str | None = None
    status: str = "AUTHORISED"
    is_reconciled: bool = False


@attrs.define
class Books:
    """All records of one organisation plus its counters."""

    organisation_id: str
    short_code: str
    created: datetime
    accounts: dict[str, Account]
    tax_rates: dict[str, TaxRate]
    currencies: list[str]
    contacts: dict[str, Contact] = attrs.field(factory=dict)
    invoices: dict[str, Invoice] = attrs.field(factory=dict)
    payments: dict[str, Payment] = attrs.field(factory=dict)
    next_invoice_number: int = 1
    emails_sent: dict[dt.date, int] = attrs.field(factory=dict)

    @classmethod
    def create(cls, config: EmulatorConfig, ids: IdFactory, now: datetime) -> Books:
        """Build the default books of a fresh organisation from ``config``."""
        accounts = {}
        for spec in config.accounts:
            account = Account(
                account_id=ids.uuid(),
                code=spec.code,
                name=spec.name,
                type=spec.type,
                tax_type=spec.tax_type,
                status=spec.status,
                enable_payments=spec.enable_payments,
                bank_account_number=spec.bank_account_number,
                system_account=spec.system_account,
                updated=now,
            )
            accounts[account.account_id] = account
        rates = {r.tax_type: TaxRate(r.tax_type, r.name, r.rate) for r in config.tax_rates}
        currencies = list(dict.fromkeys((config.base_currency, *config.currencies)))
        return cls(
            organisation_id=ids.uuid(),
            short_code="!" + ids.token(5),
            created=now,
            accounts=accounts,
            tax_rates=rates,
            currencies=currencies,
        )

    def account_by_code(self, code: str) -> Account | None:
        """Find an account by its code (case-insensitive)."""
        wanted = code.strip().upper()
        for account in self.accounts.values():
            if account.code.upper() == wanted:
                return account
        return None

    def contact_by_number(self, number: str) -> Contact | None:
        """Find a contact by ``ContactNumber``."""
        for contact in self.contacts.values():
            if contact.contact_number is not None and contact.contact_number == number:
                return contact
        return None

    def invoice_by_number(self, number: str) -> Invoice | None:
        """Find a (not deleted) invoice by ``InvoiceNumber``, preferring ACCREC."""
        found = [
            inv
            for inv in self.invoices.values()
            if inv.invoice_number == number and inv.status != "DELETED"
        ]
        found.sort(key=lambda inv: inv.type != "ACCREC")
        return found[0] if found else None

    def payments_of(self, invoice_id: str) -> list[Payment]:
        """The live (not deleted) payments of an invoice."""
        return [
            p
            for p in self.payments.values()
            if p.invoice_id == invoice_id and p.status != "DELETED"
        ]


@attrs.frozen
class BooksSnapshot:
    """All contacts, invoices (with line items, 4 dp unit amounts) and payments, as Xero JSON."""

    contacts: tuple[dict[str, Any], ...]
    invoices: tuple[dict[str, Any], ...]
    payments: tuple[dict[str, Any], ...]

    def as_mapping(self) -> dict[str, Any]:
        """The snapshot as one JSON-ready mapping."""
        return {
            "Contacts": list(self.contacts),
            "Invoices": list(self.invoices),
            "Payments": list(self.payments),
        }
