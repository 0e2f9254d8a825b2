from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import attrs
import pytest

from ams_billing import (
    AmountType,
    BillingService,
    ConfigurationError,
    Contact,
    IdempotencyConflictError,
    InvalidStateError,
    InvoiceDefaults,
    InvoiceRequest,
    InvoiceStatus,
    NotFoundError,
    ProviderUnavailableError,
    RateLimitedError,
    ValidationError,
)
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing import (
    DraftMaker,
    EmailCounter,
    FaultInjector,
    ProviderTestDriver,
    WebhookSigner,
)
from ams_billing.testing.fake import FakeDriver


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider(webhook_key="k")


@pytest.fixture
def service(fake: FakeProvider) -> BillingService:
    return BillingService(fake)


def test_the_fakes_driver_is_a_complete_test_driver(fake: FakeProvider) -> None:
    driver = FakeDriver(fake)
    for protocol in (ProviderTestDriver, FaultInjector, EmailCounter, WebhookSigner, DraftMaker):
        assert isinstance(driver, protocol), protocol.__name__


@pytest.mark.parametrize(
    "name", ["record_payment", "take_webhook_deliveries", "fail_next", "contract_harness"]
)
def test_the_provider_is_no_driver_and_says_where_the_driver_went(
    fake: FakeProvider, name: str
) -> None:
    # The provider answers only what an AMS calls; a caller of a moved method is told the fix.
    assert not isinstance(fake, ProviderTestDriver)
    with pytest.raises(
        AttributeError, match=rf"ams_billing\.testing\.FakeDriver\(provider\)\.{name}"
    ):
        getattr(fake, name)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        fake.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_the_repr_shows_no_webhook_key() -> None:
    assert "secret-key" not in repr(FakeProvider(webhook_key="secret-key"))


def test_a_failure_before_apply_creates_nothing_and_a_retry_succeeds_once(
    fake: FakeProvider, service: BillingService, invoice_request: InvoiceRequest
) -> None:
    FakeDriver(fake).fail_next(2, ProviderUnavailableError, operations=["create_invoice"])
    for _ in range(2):
        with pytest.raises(ProviderUnavailableError):
            service.create_invoice(invoice_request, idempotency_key="i-1")
    assert fake.invoices == []
    invoice = service.create_invoice(invoice_request, idempotency_key="i-1")
    assert [i.provider_id for i in fake.invoices] == [invoice.provider_id]


def test_a_lost_response_then_a_retry_returns_the_first_invoice(
    fake: FakeProvider, service: BillingService, invoice_request: InvoiceRequest
) -> None:
    FakeDriver(fake).fail_next(
        1, ProviderUnavailableError, operations=["create_invoice"], after_apply=True
    )
    with pytest.raises(ProviderUnavailableError):
        service.create_invoice(invoice_request, idempotency_key="i-1")
    assert len(fake.invoices) == 1
    retried = service.create_invoice(invoice_request, idempotency_key="i-1")
    assert fake.invoices == [retried]


def test_injected_rate_limits_say_when_to_retry(
    fake: FakeProvider, service: BillingService, contact: Contact
) -> None:
    FakeDriver(fake).fail_next(1, RateLimitedError)
    with pytest.raises(RateLimitedError) as excinfo:
        service.create_contact(contact, idempotency_key="c-1")
    assert excinfo.value.retry_after == 1.0
    assert service.create_contact(contact, idempotency_key="c-1").account_reference == "acct-1"


def test_faults_only_hit_the_named_operations(
    fake: FakeProvider, service: BillingService, contact: Contact
) -> None:
    FakeDriver(fake).fail_next(1, ValidationError, operations=["void_invoice"])
    service.create_contact(contact, idempotency_key="c-1")
    with pytest.raises(ValidationError):
        service.void_invoice("nope")
    with pytest.raises(NotFoundError):
        service.void_invoice("nope")


def test_a_key_reused_for_another_operation_conflicts(
    service: BillingService, contact: Contact, invoice_request: InvoiceRequest
) -> None:
    service.create_contact(contact, idempotency_key="k-1")
    with pytest.raises(IdempotencyConflictError):
        service.create_invoice(invoice_request, idempotency_key="k-1")


def test_many_threads_with_one_key_create_one_invoice(
    fake: FakeProvider, service: BillingService, invoice_request: InvoiceRequest
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(
                lambda _: service.create_invoice(invoice_request, idempotency_key="same"),
                range(64),
            )
        )
    assert len({invoice.provider_id for invoice in results}) == 1
    assert len(fake.invoices) == 1


def test_many_threads_with_their_own_keys_get_distinct_numbers(
    fake: FakeProvider, service: BillingService, invoice_request: InvoiceRequest
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(
                lambda n: service.create_invoice(invoice_request, idempotency_key=f"k-{n}"),
                range(64),
            )
        )
    assert len({invoice.number for invoice in results}) == 64
    assert len(fake.contacts) == 1


def test_payments_partial_full_and_reversed(
    fake: FakeProvider, service: BillingService, invoice_request: InvoiceRequest
) -> None:
    invoice = service.create_invoice(invoice_request, idempotency_key="i-1")
    with pytest.raises(ValidationError, match="exceeds"):
        FakeDriver(fake).add_payment(invoice.provider_id, invoice.total + 1)
    with pytest.raises(ValidationError):
        FakeDriver(fake).add_payment(invoice.provider_id, "0.001")
    FakeDriver(fake).add_payment(invoice.provider_id, "38.00")
    partly = service.get_invoice(invoice.provider_id)
    assert (partly.status, partly.amount_paid, partly.amount_due) == (
        InvoiceStatus.OPEN,
        Decimal("38.00"),
        invoice.total - 38,
    )
    last = FakeDriver(fake).add_payment(invoice.provider_id, partly.amount_due)
    paid = service.get_invoice(invoice.provider_id)
    assert (paid.status, paid.provider_status) == (InvoiceStatus.PAID, "PAID")
    assert paid.fully_paid_on is not None
    with pytest.raises(InvalidStateError):
        service.void_invoice(invoice.provider_id)
    FakeDriver(fake).delete_payment(last.payment_id)
    reopened = service.get_invoice(invoice.provider_id)
    assert (reopened.status, reopened.amount_due) == (InvoiceStatus.OPEN, partly.amount_due)
    assert (invoice.provider_status, reopened.provider_status) == ("OPEN", "OPEN")
    assert reopened.updated_at > paid.updated_at


def test_unknown_currency_and_account_are_refused_naming_fields(
    service: BillingService, invoice_request: InvoiceRequest
) -> None:
    import attrs

    bad = attrs.evolve(invoice_request, currency="XXX", account_code="999")
    with pytest.raises(ValidationError) as excinfo:
        service.create_invoice(bad, idempotency_key="i-1")
    assert excinfo.value.fields == ("currency", "account_code")


def test_an_invoice_is_emailed_to_the_contact_as_it_is_now(
    fake: FakeProvider, service: BillingService, invoice_request: InvoiceRequest
) -> None:
    invoice = service.create_invoice(invoice_request, idempotency_key="i-1")
    moved = Contact("acct-1", "Ada Lovelace", "ada@new.example.org")
    service.create_contact(moved, idempotency_key="c-2")
    assert service.send_invoice(invoice.provider_id).recipient == "ada@new.example.org"
    assert service.get_invoice(invoice.provider_id).contact.email == "ada@new.example.org"


def test_injected_conflicts_have_their_own_class(
    fake: FakeProvider, service: BillingService, contact: Contact
) -> None:
    FakeDriver(fake).fail_next(1, IdempotencyConflictError)
    with pytest.raises(IdempotencyConflictError):
        service.create_contact(contact, idempotency_key="c-1")


def test_a_subclass_is_named_in_its_repr() -> None:
    class Mine(FakeProvider):
        pass

    assert repr(Mine()).startswith("Mine(")


def test_a_request_naming_no_amount_type_gets_the_fakes_default(
    invoice_request: InvoiceRequest,
) -> None:
    fake = FakeProvider(default_amount_type=AmountType.INCLUSIVE)
    service = BillingService(fake)
    assert service.invoice_defaults == InvoiceDefaults(AmountType.INCLUSIVE, "NZD", "200")
    invoice = service.create_invoice(invoice_request, idempotency_key="i-1")
    assert (invoice.amount_type, invoice.total, invoice.total_tax) == (
        AmountType.INCLUSIVE,
        Decimal("120.00"),
        Decimal("15.65"),
    )
    named = attrs.evolve(invoice_request, amount_type=AmountType.EXCLUSIVE)
    assert service.create_invoice(named, idempotency_key="i-2").total == Decimal("138.00")


@pytest.mark.parametrize(("value", "expected"), [("inclusive", "INCLUSIVE"), ("", "EXCLUSIVE")])
def test_the_fakes_default_amount_type_comes_from_its_variable(value: str, expected: str) -> None:
    fake = FakeProvider.from_env({"AMS_BILLING_FAKE_AMOUNT_TYPE": value})
    assert fake.get_invoice_defaults().amount_type is AmountType(expected)


def test_a_bad_fake_amount_type_names_the_variable() -> None:
    with pytest.raises(ConfigurationError) as raised:
        FakeProvider.from_env({"AMS_BILLING_FAKE_AMOUNT_TYPE": "GROSS"})
    assert [e.field for e in raised.value.errors] == ["AMS_BILLING_FAKE_AMOUNT_TYPE"]
    assert "INCLUSIVE, EXCLUSIVE, NO_TAX" in str(raised.value)


def test_a_retry_after_the_default_changed_returns_the_first_invoice(
    invoice_request: InvoiceRequest,
) -> None:
    first = FakeProvider(default_amount_type=AmountType.INCLUSIVE)
    invoice = first.create_invoice(invoice_request, "i-1")
    first.books.expire_keys()  # only the client's ledger remembers the key now
    changed = FakeProvider(
        default_amount_type=AmountType.EXCLUSIVE, books=first.books, idempotency_store=first.ledger
    )
    again = changed.create_invoice(invoice_request, "i-1")
    assert (again.provider_id, again.total) == (invoice.provider_id, Decimal("120.00"))
    assert len(changed.invoices) == 1
