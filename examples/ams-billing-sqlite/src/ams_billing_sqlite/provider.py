"""``SqliteProvider``: contacts, invoices and payments in a SQLite ledger.

Idempotency rests on the database: a key is stored in the same transaction as what it
created, so a retry after a crash finds it. Webhooks are the ledger's own event table, signed
with HMAC-SHA256 like Xero's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ams_billing import (
    AmountType,
    BillingService,
    Capability,
    Contact,
    ContactRecord,
    EmailSkipReason,
    EventCategory,
    EventType,
    FieldError,
    IdempotencyConflictError,
    InvalidStateError,
    Invoice,
    InvoiceDefaults,
    InvoiceEmailResult,
    InvoiceLine,
    InvoiceRequest,
    InvoiceStatus,
    NotFoundError,
    ValidationError,
    WebhookDelivery,
    WebhookEvent,
    WebhookVerificationError,
    hookimpl,
)
from ams_billing.testing import ContractHarness, SignedDelivery

SIGNATURE_HEADER = "x-ledger-signature"
CENT = Decimal("0.01")

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (code TEXT PRIMARY KEY, tax_rate TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contacts (
    id TEXT PRIMARY KEY, reference TEXT UNIQUE NOT NULL, name TEXT NOT NULL, email TEXT);
CREATE TABLE IF NOT EXISTS invoices (
    id TEXT PRIMARY KEY, number INTEGER UNIQUE NOT NULL, contact_id TEXT NOT NULL,
    data TEXT NOT NULL, status TEXT NOT NULL, paid TEXT NOT NULL, paid_on TEXT,
    updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    key TEXT PRIMARY KEY, operation TEXT NOT NULL, fingerprint TEXT NOT NULL, result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT, category TEXT, type TEXT, resource_id TEXT,
    at TEXT, taken INTEGER DEFAULT 0);
"""


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class SqliteProvider:
    """A billing provider whose books are a SQLite database (``:memory:`` by default)."""

    def __init__(
        self,
        path: str = ":memory:",
        *,
        webhook_key: str | None = None,
        accounts: Mapping[str, Decimal] | None = None,
        currencies: Sequence[str] = ("NZD", "AUD"),
        amount_type: AmountType = AmountType.EXCLUSIVE,
    ) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._key = webhook_key or secrets.token_urlsafe(32)
        self.currencies = frozenset(currencies)
        accounts = accounts or {"200": Decimal("0.15")}
        # A request that leaves its amount type or account code unset is billed with these.
        self.defaults = InvoiceDefaults(amount_type, currencies[0], min(accounts))
        self._clock = datetime.min.replace(tzinfo=UTC)
        self._db.executescript(SCHEMA)  # runs its own transaction
        with self._transaction() as db:
            for code, rate in accounts.items():
                db.execute("INSERT OR IGNORE INTO accounts VALUES (?, ?)", (code, str(rate)))

    def __repr__(self) -> str:
        return "SqliteProvider()"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SqliteProvider:
        """``AMS_BILLING_SQLITE_PATH``, ``_WEBHOOK_KEY`` and ``_AMOUNT_TYPE`` (the default)."""
        return cls(
            environ.get("AMS_BILLING_SQLITE_PATH", ":memory:"),
            webhook_key=environ.get("AMS_BILLING_SQLITE_WEBHOOK_KEY"),
            amount_type=AmountType(environ.get("AMS_BILLING_SQLITE_AMOUNT_TYPE", "EXCLUSIVE")),
        )

    @classmethod
    def contract_harness(cls) -> ContractHarness:
        """A fresh in-memory ledger for one contract test (requests default to INCLUSIVE)."""
        provider = cls(amount_type=AmountType.INCLUSIVE)
        return ContractHarness(
            service=BillingService(provider),
            driver=provider,
            currency="NZD",
            account_code="200",
            tax_rate=Decimal("0.15"),
        )

    # -- operations -----------------------------------------------------------------------

    @hookimpl
    def get_capabilities(self) -> frozenset[Capability]:
        """Everything."""
        return frozenset(Capability)

    @hookimpl
    def get_invoice_defaults(self) -> InvoiceDefaults:
        """What a request that leaves its amount type or account code unset is billed with."""
        return self.defaults

    @hookimpl
    def create_contact(self, contact: Contact, idempotency_key: str) -> ContactRecord:
        """Upsert by account reference."""
        with self._transaction() as db:
            stored = self._replay(db, "contact", idempotency_key, contact)
            if stored is None:
                record = self._upsert(db, contact)
                self._remember(db, "contact", idempotency_key, contact, record.provider_id)
                return record
            return self._contact(db, stored)

    @hookimpl
    def create_invoice(self, request: InvoiceRequest, idempotency_key: str) -> Invoice:
        """Raise an AUTHORISED invoice with tax per line."""
        with self._transaction() as db:
            stored = self._replay(db, "invoice", idempotency_key, request)
            if stored is not None:
                return self._invoice(db, stored)
            asked = request  # the key remembers the request as sent, unset fields unset
            request = self.defaults.apply(request)
            rates = self._rates(db, request)
            contact = self._upsert(db, request.contact)
            lines = [self._line(item, request, rates) for item in request.line_items]
            tax = sum((line.tax_amount for line in lines), Decimal(0))
            gross = sum((line.line_amount for line in lines), Decimal(0))
            total = gross if request.amount_type is AmountType.INCLUSIVE else gross + tax
            number = db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM invoices").fetchone()[0]
            invoice_id = str(uuid.uuid4())
            data = {
                "currency": request.currency,
                "issue_date": request.issue_date.isoformat(),
                "due_date": request.due_date.isoformat(),
                "reference": request.reference,
                "amount_type": self.defaults.amount_type_for(request).value,
                "total": str(total),
                "tax": str(tax),
                "lines": [
                    [li.description, str(li.quantity), str(li.unit_amount), str(li.line_amount),
                     str(li.tax_amount), li.account_code]
                    for li in lines
                ],
            }  # fmt: skip
            db.execute(
                "INSERT INTO invoices VALUES (?, ?, ?, ?, 'AUTHORISED', '0', NULL, ?)",
                (invoice_id, number, contact.provider_id, json.dumps(data), self._tick()),
            )
            self._event(db, EventCategory.INVOICE, EventType.CREATE, invoice_id)
            self._remember(db, "invoice", idempotency_key, asked, invoice_id)
            return self._invoice(db, invoice_id)

    @hookimpl
    def send_invoice(self, invoice: Invoice, idempotency_key: str) -> InvoiceEmailResult:
        """Record the email (this ledger has no mail server); once per key."""
        with self._transaction() as db:
            current = self._invoice(db, invoice.provider_id)
            if current.status not in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
                raise InvalidStateError(
                    f"a {current.status.value} invoice cannot be emailed",
                    resource_id=current.provider_id,
                )
            if self._replay(db, "email", idempotency_key, invoice.provider_id) is None:
                self._remember(db, "email", idempotency_key, invoice.provider_id, "sent")
            if current.contact.email is None:
                return InvoiceEmailResult(
                    current.provider_id, False, skipped_reason=EmailSkipReason.NO_RECIPIENT
                )
            return InvoiceEmailResult(current.provider_id, True, current.contact.email)

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        """Verify the HMAC over the raw body, then parse."""
        given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "")
        if not hmac.compare_digest(self._sign(body).encode(), given.encode("utf-8", "replace")):
            raise WebhookVerificationError("the ledger signature does not match the body")
        try:
            data = json.loads(body)
            events = tuple(
                WebhookEvent(
                    category=EventCategory(event["category"]),
                    event_type=EventType(event["type"]),
                    resource_id=event["resource_id"],
                    occurred_at=datetime.fromisoformat(event["at"]),
                )
                for event in data["events"]
            )
            return WebhookDelivery(events, data["first"], data["last"])
        except (ValueError, KeyError, TypeError) as error:
            problem = FieldError("body", f"is not a ledger delivery ({error})")
            raise ValidationError([problem]) from None

    @hookimpl
    def get_invoices(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        """Read invoices by id; unknown ids are left out."""
        with self._transaction() as db:
            found = []
            for invoice_id in dict.fromkeys(invoice_ids):
                try:
                    found.append(self._invoice(db, invoice_id))
                except NotFoundError:
                    continue
            return found

    @hookimpl
    def get_invoices_changed_since(self, since: datetime) -> list[Invoice]:
        """Invoices updated at or after ``since``."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT id FROM invoices WHERE updated_at >= ? ORDER BY updated_at",
                (since.astimezone(UTC).isoformat(),),
            ).fetchall()
            return [self._invoice(db, row[0]) for row in rows]

    @hookimpl
    def get_invoice_url(self, invoice_id: str) -> str:
        """A local URL for the invoice."""
        with self._transaction() as db:
            return f"https://ledger.example/invoices/{self._invoice(db, invoice_id).provider_id}"

    @hookimpl
    def void_invoice(self, invoice_id: str) -> Invoice:
        """Void an unpaid AUTHORISED invoice."""
        with self._transaction() as db:
            invoice = self._invoice(db, invoice_id)
            if invoice.status is InvoiceStatus.VOID:
                return invoice
            if invoice.status is not InvoiceStatus.OPEN or invoice.amount_paid:
                raise InvalidStateError("only unpaid AUTHORISED invoices can be voided")
            self._set(db, invoice_id, "VOIDED", invoice.amount_paid, None)
            return self._invoice(db, invoice_id)

    # -- the contract suite's driver ---------------------------------------------------------

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        """Record a payment; the invoice becomes PAID when nothing is due."""
        with self._transaction() as db:
            invoice = self._invoice(db, invoice_id)
            if invoice.status is not InvoiceStatus.OPEN:
                raise InvalidStateError(f"cannot pay a {invoice.status.value} invoice")
            if not 0 < amount <= invoice.amount_due:
                raise ValidationError.for_field("amount", f"{amount} is not payable")
            paid = invoice.amount_paid + amount
            done = paid == invoice.total
            today = datetime.now(UTC).date().isoformat() if done else None
            self._set(db, invoice_id, "PAID" if done else "AUTHORISED", paid, today)

    def take_webhook_deliveries(self) -> list[SignedDelivery]:
        """One signed delivery with every event not yet taken."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT sequence, category, type, resource_id, at FROM events WHERE taken = 0"
            ).fetchall()
            if not rows:
                return []
            db.execute("UPDATE events SET taken = 1 WHERE taken = 0")
        body = json.dumps(
            {
                "first": rows[0][0],
                "last": rows[-1][0],
                "events": [
                    {"category": c, "type": t, "resource_id": r, "at": at}
                    for _, c, t, r, at in rows
                ],
            }
        ).encode()
        return [SignedDelivery(body, {SIGNATURE_HEADER: self._sign(body)})]

    # -- internals ----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _sign(self, body: bytes) -> str:
        digest = hmac.new(self._key.encode(), body, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def _tick(self) -> str:
        self._clock = max(datetime.now(UTC), self._clock + timedelta(microseconds=1))
        return self._clock.isoformat()

    def _replay(self, db: sqlite3.Connection, operation: str, key: str, request: Any) -> str | None:
        row = db.execute(
            "SELECT operation, fingerprint, result FROM keys WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        if (row[0], row[1]) != (operation, repr(request)):
            raise IdempotencyConflictError(key)
        return str(row[2])

    def _remember(
        self, db: sqlite3.Connection, operation: str, key: str, request: Any, result: str
    ) -> None:
        db.execute("INSERT INTO keys VALUES (?, ?, ?, ?)", (key, operation, repr(request), result))

    def _rates(self, db: sqlite3.Connection, request: InvoiceRequest) -> dict[str, Decimal]:
        rates = {code: Decimal(rate) for code, rate in db.execute("SELECT * FROM accounts")}
        errors = []
        if request.currency not in self.currencies:
            errors.append(FieldError("currency", f"{request.currency} is not enabled"))
        if request.account_code is not None and request.account_code not in rates:
            errors.append(FieldError("account_code", f"{request.account_code!r} is unknown"))
        for index, item in enumerate(request.line_items):
            if item.account_code is not None and item.account_code not in rates:
                errors.append(FieldError(f"line_items[{index}].account_code", "is unknown"))
        if errors:
            raise ValidationError(errors)
        return rates

    def _line(
        self, item: Any, request: InvoiceRequest, rates: Mapping[str, Decimal]
    ) -> InvoiceLine:
        code = item.account_code or request.account_code or min(rates)
        rate = rates[code]
        amount = _cents(item.quantity * item.unit_amount)
        if request.amount_type is AmountType.NO_TAX:
            tax = Decimal("0.00")
        elif request.amount_type is AmountType.INCLUSIVE:
            tax = _cents(amount * rate / (1 + rate))
        else:
            tax = _cents(amount * rate)
        return InvoiceLine(item.description, item.quantity, item.unit_amount, amount, tax, code)

    def _upsert(self, db: sqlite3.Connection, contact: Contact) -> ContactRecord:
        row = db.execute(
            "SELECT id FROM contacts WHERE reference = ?", (contact.account_reference,)
        ).fetchone()
        contact_id = row[0] if row else str(uuid.uuid4())
        db.execute(
            "INSERT INTO contacts VALUES (?, ?, ?, ?) ON CONFLICT(reference) DO UPDATE "
            "SET name = excluded.name, email = excluded.email",
            (contact_id, contact.account_reference, contact.name, contact.email),
        )
        if not row:
            self._event(db, EventCategory.CONTACT, EventType.CREATE, contact_id)
        return self._contact(db, contact_id)

    def _contact(self, db: sqlite3.Connection, contact_id: str) -> ContactRecord:
        row = db.execute(
            "SELECT id, reference, name, email FROM contacts WHERE id = ?", (contact_id,)
        ).fetchone()
        return ContactRecord(*row)

    def _invoice(self, db: sqlite3.Connection, invoice_id: str) -> Invoice:
        row = db.execute(
            "SELECT number, contact_id, data, status, paid, paid_on, updated_at "
            "FROM invoices WHERE id = ?",
            (invoice_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no invoice {invoice_id!r}", resource_id=invoice_id)
        number, contact_id, raw, status, paid, paid_on, updated_at = row
        data = json.loads(raw)
        total, tax, paid = Decimal(data["total"]), Decimal(data["tax"]), Decimal(paid)
        voided = status == "VOIDED"
        return Invoice(
            provider_id=invoice_id,
            number=f"LEDGER-{number:05d}",
            status=InvoiceStatus(status),
            contact=self._contact(db, contact_id),
            currency=data["currency"],
            issue_date=date.fromisoformat(data["issue_date"]),
            due_date=date.fromisoformat(data["due_date"]),
            reference=data["reference"],
            amount_type=AmountType(data["amount_type"]),
            subtotal=total - tax,
            total_tax=tax,
            total=total,
            amount_paid=paid,
            amount_due=Decimal(0) if voided else total - paid,
            updated_at=datetime.fromisoformat(updated_at),
            fully_paid_on=date.fromisoformat(paid_on) if paid_on else None,
            line_items=tuple(
                InvoiceLine(d, Decimal(q), Decimal(u), Decimal(a), Decimal(t), c)
                for d, q, u, a, t, c in data["lines"]
            ),
            online_url=f"https://ledger.example/invoices/{invoice_id}",
        )

    def _set(
        self, db: sqlite3.Connection, invoice_id: str, status: str, paid: Decimal, on: str | None
    ) -> None:
        db.execute(
            "UPDATE invoices SET status = ?, paid = ?, paid_on = ?, updated_at = ? WHERE id = ?",
            (status, str(paid), on, self._tick(), invoice_id),
        )
        self._event(db, EventCategory.INVOICE, EventType.UPDATE, invoice_id)

    def _event(
        self, db: sqlite3.Connection, category: EventCategory, kind: EventType, resource_id: str
    ) -> None:
        db.execute(
            "INSERT INTO events (category, type, resource_id, at) VALUES (?, ?, ?, ?)",
            (category.value, kind.value, resource_id, self._tick()),
        )
