from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ams_billing import (
    AuditLogPolicy,
    BillingService,
    ConfigurationError,
    Contact,
    EmailSkipReason,
    InvoiceChange,
    InvoiceRequest,
    UnsupportedOperationError,
    ValidationError,
    hookimpl,
)
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing.fake import FakeDriver


class Recorder:
    def __init__(self) -> None:
        self.changes: list[InvoiceChange] = []

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        self.changes.append(change)


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider(webhook_key="test-key")


def test_a_provider_missing_an_operation_is_refused_at_start_up() -> None:
    class HalfProvider:
        @hookimpl
        def create_contact(self, contact: Contact, idempotency_key: str) -> None:
            return None

    with pytest.raises(ConfigurationError, match=r"implements no .*create_invoice"):
        BillingService(HalfProvider())


def test_a_misspelt_hook_fails_at_start_up(fake: FakeProvider) -> None:
    class Typo:
        @hookimpl
        def invoice_chnaged(self, change: InvoiceChange) -> None:
            raise AssertionError("never called")

    service = BillingService(fake)
    with pytest.raises(ConfigurationError, match="invoice_chnaged"):
        service.add_listener(Typo())
    assert not any(isinstance(p, Typo) for p in service.plugin_manager.get_plugins())


def test_an_operation_without_an_answer_is_unsupported(fake: FakeProvider) -> None:
    class Silent(FakeProvider):
        @hookimpl
        def get_invoice_url(self, invoice_id: str) -> str:
            return None  # type: ignore[return-value]

    with pytest.raises(UnsupportedOperationError):
        BillingService(Silent()).get_invoice_url("x")


@pytest.mark.parametrize("key", ["", "   ", "k" * 129])
def test_idempotency_keys_are_checked_before_any_call(
    fake: FakeProvider, contact: Contact, key: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        BillingService(fake).create_contact(contact, idempotency_key=key)
    assert excinfo.value.fields == ("idempotency_key",)
    assert fake.calls == []


def test_the_email_switch_skips_without_calling_the_provider(
    fake: FakeProvider, invoice_request: InvoiceRequest
) -> None:
    service = BillingService(fake, email_invoices=False)
    invoice = service.create_invoice(invoice_request, idempotency_key="i-1")
    result = service.send_invoice(invoice)
    assert (result.sent, result.skipped_reason) == (False, EmailSkipReason.EMAILS_DISABLED)
    assert "send_invoice" not in fake.calls
    assert fake.emails_sent == []


@pytest.mark.parametrize(
    ("email", "sent", "reason"),
    [
        ("ada@example.org", True, None),
        ("ada@example.org.evil.com", False, EmailSkipReason.RECIPIENT_NOT_WHITELISTED),
        ("ada@elsewhere.com", False, EmailSkipReason.RECIPIENT_NOT_WHITELISTED),
        (None, False, EmailSkipReason.NO_RECIPIENT),
    ],
)
def test_the_whitelist_decides_who_is_emailed(
    fake: FakeProvider,
    invoice_request: InvoiceRequest,
    email: str | None,
    sent: bool,
    reason: EmailSkipReason | None,
) -> None:
    service = BillingService(fake, email_whitelist=r"@example\.org$")
    request = InvoiceRequest(
        contact=Contact("acct-2", "Ada", email),
        line_items=invoice_request.line_items,
        currency="NZD",
        issue_date=invoice_request.issue_date,
        due_date=invoice_request.due_date,
    )
    invoice = service.create_invoice(request, idempotency_key="i-1")
    result = service.send_invoice(invoice.provider_id)
    assert (result.sent, result.skipped_reason) == (sent, reason)
    assert len(fake.emails_sent) == int(sent)


def test_sending_twice_emails_once(fake: FakeProvider, invoice_request: InvoiceRequest) -> None:
    service = BillingService(fake)
    invoice = service.create_invoice(invoice_request, idempotency_key="i-1")
    assert service.send_invoice(invoice) == service.send_invoice(invoice)
    assert len(fake.emails_sent) == 1


def test_webhook_to_listener_end_to_end(
    fake: FakeProvider, invoice_request: InvoiceRequest
) -> None:
    recorder = Recorder()
    service = BillingService(fake, listeners=[recorder])
    invoice = service.create_invoice(invoice_request, idempotency_key="i-1")
    FakeDriver(fake).take_webhook_deliveries()
    FakeDriver(fake).record_payment(invoice.provider_id, Decimal("50.00"))
    FakeDriver(fake).record_payment(invoice.provider_id, invoice.total - Decimal("50.00"))
    (delivery,) = FakeDriver(fake).take_webhook_deliveries()
    response = service.handle_webhook(delivery.body, delivery.headers)
    assert response.status == 200
    assert response.delivery is not None
    service.process_webhook(response.delivery)
    service.process_webhook(response.delivery)  # a duplicate delivery
    assert [change.kind.value for change in recorder.changes] == ["paid"]
    assert recorder.changes[0].previous_amount_paid == 0


def test_a_bad_signature_is_a_401_and_changes_nothing(fake: FakeProvider) -> None:
    service = BillingService(fake)
    body = b'{"events":[],"first_sequence":0,"last_sequence":0,"tenant_id":"fake-tenant"}'
    good = FakeDriver(fake).sign_delivery(body)
    assert service.handle_webhook(good.body, good.headers).status == 200
    assert service.handle_webhook(body + b" ", good.headers).status == 401
    assert service.handle_webhook(body, {}).status == 401
    assert service.handle_webhook(body, {"X-Fake-Signature": "AAAA"}).status == 401


def test_a_verified_but_malformed_delivery_is_acknowledged(fake: FakeProvider) -> None:
    signed = FakeDriver(fake).sign_delivery(b"not json")
    response = BillingService(fake).handle_webhook(signed.body, signed.headers)
    assert (response.status, response.delivery) == (200, None)


def test_changed_since_needs_an_aware_datetime(fake: FakeProvider) -> None:
    service = BillingService(fake)
    with pytest.raises(ValidationError):
        service.get_invoices_changed_since(datetime(2026, 1, 1))
    assert service.get_invoices_changed_since(datetime(2026, 1, 1, tzinfo=UTC)) == []


def test_void_notifies_listeners(fake: FakeProvider, invoice_request: InvoiceRequest) -> None:
    recorder = Recorder()
    service = BillingService(fake, listeners=[recorder])
    invoice = service.create_invoice(invoice_request, idempotency_key="i-1")
    service.void_invoice(invoice.provider_id)
    service.sync_invoices([invoice.provider_id])
    assert [change.kind.value for change in recorder.changes] == ["voided"]


@pytest.fixture
def audit_records(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG, logger="ams_billing.audit"):
        yield caplog


def test_audit_policy_logs_operations_but_not_their_data(
    fake: FakeProvider,
    invoice_request: InvoiceRequest,
    audit_records: pytest.LogCaptureFixture,
) -> None:
    service = BillingService(fake, policies=[AuditLogPolicy()])
    service.create_invoice(invoice_request, idempotency_key="i-1")
    FakeDriver(fake).fail_next(1, ValidationError, operations=["create_invoice"])
    with pytest.raises(ValidationError):
        service.create_invoice(invoice_request, idempotency_key="i-2")
    messages = [record.getMessage() for record in audit_records.records]
    assert any(m.startswith("create_invoice ok") for m in messages)
    assert any(m.startswith("create_invoice failed with ValidationError") for m in messages)
    assert not any("ada@example.org" in m or "Ada" in m for m in messages)


def test_a_create_retried_after_payment_still_tells_listeners_it_was_paid(
    fake: FakeProvider, invoice_request: InvoiceRequest
) -> None:
    recorder = Recorder()
    service = BillingService(fake, listeners=[recorder])
    invoice = service.create_invoice(invoice_request, idempotency_key="i-1")
    FakeDriver(fake).record_payment(invoice.provider_id, invoice.total)
    service.create_invoice(invoice_request, idempotency_key="i-1")
    for delivery in FakeDriver(fake).take_webhook_deliveries():
        response = service.handle_webhook(delivery.body, delivery.headers)
        assert response.delivery is not None
        service.process_webhook(response.delivery)
    assert [change.kind.value for change in recorder.changes] == ["paid"]


def test_a_listener_that_fails_hears_the_change_again_on_the_next_read(
    fake: FakeProvider, invoice_request: InvoiceRequest
) -> None:
    class FlakyLedger(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.down = True

        @hookimpl
        def invoice_changed(self, change: InvoiceChange) -> None:
            if self.down:
                raise ConnectionError("the membership database is down")
            self.changes.append(change)

    ledger = FlakyLedger()
    service = BillingService(fake, listeners=[ledger])
    invoice = service.create_invoice(invoice_request, idempotency_key="i-1")
    FakeDriver(fake).record_payment(invoice.provider_id, invoice.total)
    with pytest.raises(ConnectionError):
        service.sync_invoices([invoice.provider_id])
    ledger.down = False
    service.sync_invoices([invoice.provider_id])
    service.sync_invoices([invoice.provider_id])
    assert [change.kind.value for change in ledger.changes] == ["paid"]


def test_close_closes_what_the_service_owns_once_last_first() -> None:
    closed: list[int] = []

    class Resource:
        def __init__(self, number: int) -> None:
            self.number = number

        def close(self) -> None:
            closed.append(self.number)

    service = BillingService(FakeProvider(), owned=[Resource(1), Resource(2)])
    with service:
        assert closed == []
    service.close()
    assert closed == [2, 1]
