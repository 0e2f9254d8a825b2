"""The fake as an accounting system and a client: books shared by instances, a ledger of keys."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

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
)
from ams_billing.core.ledger import InMemoryIdempotencyStore, RecordState
from ams_billing.providers.fake import FakeBooks, FakeProvider
from ams_billing.stores import SqlStores, open_stores
from ams_billing.testing.fake import FakeDriver


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[SqlStores]:
    with open_stores(f"sqlite:///{tmp_path / 'billing.sqlite3'}") as stores:
        yield stores


def request(reference: str = "ref-1", amount: str = "100.00") -> InvoiceRequest:
    return InvoiceRequest(
        contact=Contact("member-1", "Ada Lovelace", "ada@example.org"),
        line_items=[LineItem("Membership", Decimal(1), Decimal(amount))],
        currency="NZD",
        issue_date=date(2026, 1, 15),
        due_date=date(2026, 2, 14),
        reference=reference,
    )


def test_instances_over_the_same_books_see_the_same_world() -> None:
    books = FakeBooks()
    first = FakeProvider(webhook_key="k", books=books)
    invoice = first.create_invoice(request(), "invoice-1")
    second = FakeProvider(webhook_key="k", books=books)
    assert second.get_invoices([invoice.provider_id]) == [invoice]
    # Ids go on from where the books are, not from 1 again.
    other = second.create_invoice(request("ref-2"), "invoice-2")
    assert other.provider_id != invoice.provider_id
    FakeDriver(second).record_payment(invoice.provider_id, invoice.amount_due)
    [delivery] = FakeDriver(first).take_webhook_deliveries()
    assert invoice.provider_id in second.parse_webhook(delivery.body, delivery.headers).invoice_ids
    assert FakeDriver(second).take_webhook_deliveries() == []


def test_the_books_replay_a_key_until_it_expires() -> None:
    books = FakeBooks()
    fake = FakeProvider(books=books)
    invoice = fake.create_invoice(request(), "invoice-1")
    other = FakeProvider(books=books)  # a new, empty ledger
    assert other.create_invoice(request(), "invoice-1") == invoice
    books.expire_keys()
    # The client that was answered keeps the key in its ledger; one that never was bills again.
    assert other.create_invoice(request(), "invoice-1") == invoice
    forgetful = FakeProvider(books=books)
    assert forgetful.create_invoice(request(), "invoice-1") != invoice
    assert len(books.invoices) == 2


def test_the_ledger_answers_once_the_books_forgot_the_key(stores: SqlStores) -> None:
    books = FakeBooks()
    fake = FakeProvider(books=books, idempotency_store=stores.idempotency)
    contact = fake.create_contact(Contact("member-2", "Grace Hopper", None), "contact-1")
    invoice = fake.create_invoice(request(), "invoice-1")
    books.expire_keys()
    restarted = FakeProvider(books=books, idempotency_store=stores.idempotency)
    assert restarted.create_invoice(request(), "invoice-1") == invoice
    assert restarted.create_contact(Contact("member-2", "Grace Hopper", None), "contact-1") == (
        contact
    )
    with pytest.raises(IdempotencyConflictError):
        restarted.create_invoice(request("ref-2"), "invoice-1")
    assert len(books.invoices) == 1
    record = stores.idempotency.get(f"{books.books_id}:invoice-1")
    assert record is not None
    assert (record.operation, record.state, record.result) == (
        "create_invoice",
        RecordState.DONE,
        invoice.provider_id,
    )


def test_the_ledger_keeps_an_emails_outcome(stores: SqlStores) -> None:
    books = FakeBooks()
    fake = FakeProvider(books=books, idempotency_store=stores.idempotency)
    invoice = fake.create_invoice(request(), "invoice-1")
    sent = fake.send_invoice(invoice, "email-1")
    books.expire_keys()
    restarted = FakeProvider(books=books, idempotency_store=stores.idempotency)
    assert restarted.send_invoice(invoice, "email-1") == sent
    assert FakeDriver(restarted).count_emails_sent(invoice.provider_id) == 1


def test_a_key_counts_only_against_the_books_it_was_used_with(stores: SqlStores) -> None:
    # A durable ledger outlives in-memory books (the CLI's fake, run twice): the key is new again.
    first = FakeProvider(idempotency_store=stores.idempotency)
    first.create_invoice(request(), "invoice-1")
    first.send_invoice(first.invoices[0], "email-1")
    second = FakeProvider(idempotency_store=stores.idempotency)
    invoice = second.create_invoice(request(), "invoice-1")
    assert second.invoices == [invoice]
    assert second.send_invoice(invoice, "email-1").sent
    assert FakeDriver(second).count_emails_sent(invoice.provider_id) == 1


def test_the_ledger_is_in_memory_by_default() -> None:
    fake = FakeProvider()
    assert isinstance(fake.ledger, InMemoryIdempotencyStore)
    fake.create_invoice(request(), "invoice-1")
    assert fake.ledger.get(f"{fake.books.books_id}:invoice-1") is not None


def test_the_clock_belongs_to_the_books() -> None:
    stamp = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="pass now to FakeBooks"):
        FakeProvider(books=FakeBooks(), now=lambda: stamp)
    fake = FakeProvider(books=FakeBooks(now=lambda: stamp))
    first = fake.create_invoice(request(), "invoice-1")
    second = fake.create_invoice(request("ref-2"), "invoice-2")
    assert stamp <= first.updated_at < second.updated_at < stamp + timedelta(seconds=1)


def test_a_restarted_service_on_durable_stores_bills_once(stores: SqlStores) -> None:
    books = FakeBooks()

    def start() -> BillingService:
        provider = FakeProvider(books=books, idempotency_store=stores.idempotency)
        return BillingService(provider, state_store=stores.invoice_state)

    invoice = start().create_invoice(request(), idempotency_key="invoice-1")
    books.expire_keys()
    assert start().create_invoice(request(), idempotency_key="invoice-1") == invoice
    assert len(books.invoices) == 1


def test_a_lost_answer_leaves_the_key_pending_and_the_retry_finds_what_was_made(
    stores: SqlStores,
) -> None:
    # The books applied each write and the answer was lost on its way back: the client cannot
    # know the outcome, so its ledger keeps the key pending (the shared idempotency rule), and
    # the retry, after the books forgot the key, looks up what the lost attempt made.
    books = FakeBooks()
    fake = FakeProvider(books=books, idempotency_store=stores.idempotency)
    for operation in ("create_invoice", "send_invoice", "create_invoices"):
        FakeDriver(fake).fail_next(
            1, ProviderUnavailableError, operations=[operation], after_apply=True
        )
    with pytest.raises(ProviderUnavailableError):
        fake.create_invoice(request(), "invoice-1")
    [invoice] = fake.invoices
    with pytest.raises(ProviderUnavailableError):
        fake.send_invoice(invoice, "email-1")
    batch = [BatchItem(request("ref-2"), "invoice-2")]
    with pytest.raises(ProviderUnavailableError):
        fake.create_invoices(batch)
    keys = ("invoice-1", "email-1", "invoice-2")
    states = [stores.idempotency.get(f"{books.books_id}:{key}") for key in keys]
    assert [r.state if r else None for r in states] == [RecordState.PENDING] * 3
    books.expire_keys()
    restarted = FakeProvider(books=books, idempotency_store=stores.idempotency)
    assert restarted.create_invoice(request(), "invoice-1") == invoice
    assert restarted.send_invoice(invoice, "email-1").sent
    [again] = restarted.create_invoices(batch)
    assert again.outcome is BatchOutcome.EXISTING
    assert len(books.invoices) == 2
    assert FakeDriver(restarted).count_emails_sent(invoice.provider_id) == 1
    states = [stores.idempotency.get(f"{books.books_id}:{key}") for key in keys]
    assert [r.state if r else None for r in states] == [RecordState.DONE] * 3
