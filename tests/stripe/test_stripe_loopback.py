"""The Stripe provider against the Stripe emulator over real loopback HTTP.

Everything goes through sockets: the provider's httpx client talks to the emulator served on
127.0.0.1, and the emulator posts its signed deliveries to a small receiver on another loopback
port, which hands them to ``BillingService.handle_webhook``. The provider reads the emulator's
virtual clock (pacing and retry waits move it, so nothing really sleeps).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import httpx
import pytest

from ams_billing.contracts.checks import RecordingListener
from ams_billing.core.batch import BatchItem, BatchOutcome
from ams_billing.core.errors import (
    InvalidStateError,
    NotFoundError,
    ProviderUnavailableError,
    ValidationError,
)
from ams_billing.core.ledger import InMemoryIdempotencyStore
from ams_billing.core.models import Contact, InvoiceRequest, InvoiceStatus, LineItem
from ams_billing.core.service import BillingService
from ams_billing.emulators.stripe import FaultKind, FaultRule, StripeEmulator, StripeEmulatorConfig
from ams_billing.emulators.stripe.calllog import CallRecord
from ams_billing.emulators.stripe.webhooks import delivery_headers
from ams_billing.providers.stripe.generations import GENERATION_PREFIX, MAX_GENERATIONS_PER_CALL
from ams_billing.providers.stripe.keys import stripe_key
from ams_billing.providers.stripe.provider import StripeProvider
from ams_billing.providers.stripe.settings import StripeSettings

SEARCH_DELAY = 3600.0
"""Customers take an hour to show in search here, so only the ledger or a replay finds them."""


class _Receiver:
    """The AMS side: a loopback HTTP endpoint that verifies and processes each delivery."""

    def __init__(self) -> None:
        self.service: BillingService | None = None
        self.answers: list[int] = []
        self.processed = threading.Semaphore(0)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                assert receiver.service is not None
                answer = receiver.service.handle_webhook(body, dict(self.headers.items()))
                receiver.answers.append(answer.status)  # before the emulator hears it
                self.send_response(answer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if answer.delivery is not None:  # after the answer, as a web view would
                    receiver.service.process_webhook(answer.delivery)
                    receiver.processed.release()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}/billing/webhooks/stripe"

    def wait_processed(self, count: int) -> None:
        """Wait (bounded) until ``count`` more accepted deliveries were processed."""
        for _ in range(count):
            assert self.processed.acquire(timeout=10), "a delivery was never processed"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@attrs.define
class World:
    """The emulator on a port, a receiver on another, and a way to build providers."""

    emulator: StripeEmulator
    receiver: _Receiver
    secret: str
    ledger: InMemoryIdempotencyStore
    providers: list[StripeProvider] = attrs.field(factory=list)

    def provider(self, ledger: InMemoryIdempotencyStore | None = None) -> StripeProvider:
        settings = StripeSettings(
            secret_key=self.emulator.secret_key,
            webhook_secrets=(self.secret,),
            api_base=self.emulator.base_url,
            api_version=self.emulator.config.api_version,
            currency="USD",
            timeout=10.0,
        )
        clock = self.emulator.clock
        made = StripeProvider(
            settings,
            clock=clock.elapsed,
            sleep=clock.sleep,
            now=clock.now,
            idempotency_store=self.ledger if ledger is None else ledger,
        )
        self.providers.append(made)
        return made

    def service(self, ledger: InMemoryIdempotencyStore | None = None) -> BillingService:
        built = BillingService(self.provider(ledger))
        self.receiver.service = built
        return built

    def calls(self, method: str, path: str) -> list[CallRecord]:
        return [c for c in self.emulator.calls if c.method == method and c.path == path]

    def count(self, kind: str) -> int:
        return len(self.emulator.state()[kind])


@pytest.fixture
def world() -> Iterator[World]:
    emulator = StripeEmulator(StripeEmulatorConfig(search_indexing_delay=SEARCH_DELAY)).start()
    receiver = _Receiver()
    try:
        _, secret = emulator.create_webhook_endpoint(receiver.url, ("invoice.*",))
        made = World(emulator, receiver, secret, InMemoryIdempotencyStore())
        yield made
        for provider in made.providers:
            provider.close()
    finally:
        receiver.close()
        emulator.stop()


def member(account: str = "M-1001", email: str = "ada@example.org") -> Contact:
    return Contact(account_reference=account, name="Ada Lovelace", email=email)


def request(contact: Contact | None = None, *, amount: str = "120.00") -> InvoiceRequest:
    today = date.today()
    return InvoiceRequest(
        contact=contact or member(),
        line_items=[
            LineItem(
                description="Annual membership", quantity=Decimal(1), unit_amount=Decimal(amount)
            ),
            LineItem(description="Journal", quantity=Decimal(2), unit_amount=Decimal("7.50")),
        ],
        issue_date=today,
        due_date=today + timedelta(days=30),
        currency="USD",
        reference="MEMBERSHIP-2026",
    )


# -- customers -----------------------------------------------------------------------------


def test_a_contact_is_upserted_by_account_reference(world: World) -> None:
    service = world.service()
    first = service.create_contact(member(), idempotency_key="contact-1")
    changed = service.create_contact(member(email="ada@new.example.org"), idempotency_key="c-2")
    assert changed.provider_id == first.provider_id
    [customer] = world.emulator.state()["customers"]
    assert (customer["id"], customer["email"]) == (first.provider_id, "ada@new.example.org")
    assert customer["metadata"] == {"ams_account": "M-1001"}


def test_a_restarted_provider_finds_the_customer_while_search_is_still_indexing(
    world: World,
) -> None:
    first = world.service().create_contact(member(), idempotency_key="contact-1")
    # A new process on the same ledger, with new details: another body, so another
    # Idempotency-Key (no replay of the first create), and search has not indexed it yet.
    changed = member(email="ada@new.example.org")
    again = world.service().create_contact(changed, idempotency_key="contact-2")
    assert again.provider_id == first.provider_id
    [customer] = world.emulator.state()["customers"]
    assert customer["email"] == "ada@new.example.org"


def test_without_the_ledger_a_create_within_the_key_window_is_stripes_replay(world: World) -> None:
    first = world.service().create_contact(member(), idempotency_key="contact-1")
    elsewhere = world.service(InMemoryIdempotencyStore()).create_contact(
        member(), idempotency_key="contact-9"
    )
    assert elsewhere.provider_id == first.provider_id
    assert world.count("customers") == 1
    assert any(call.replayed for call in world.calls("POST", "/v1/customers"))


def lose_answers(world: World, path: str) -> None:
    """Every attempt of the next call to ``path`` is applied and its answer lost."""
    world.emulator.add_fault(
        FaultRule(kind=FaultKind.DROP_AFTER, method="POST", path=path, count=10)
    )


def test_a_lost_update_retried_after_a_later_update_is_replayed_not_written_again(
    world: World,
) -> None:
    service = world.service()
    made = service.create_contact(member(), idempotency_key="contact-0")
    path = f"/v1/customers/{made.provider_id}"
    lose_answers(world, f"^{path}$")
    first = member(email="first@example.org")
    with pytest.raises(ProviderUnavailableError):
        service.create_contact(first, idempotency_key="contact-1")
    world.emulator.clear_faults()
    later = service.create_contact(member(email="later@example.org"), idempotency_key="contact-2")
    retried = service.create_contact(first, idempotency_key="contact-1")
    # The answer is the customer as held now, and the later update stays.
    assert retried == later
    [customer] = world.emulator.state()["customers"]
    assert customer["email"] == "later@example.org"
    # The retry repeated the lost update under its own key, and Stripe replayed it.
    lost_key = world.calls("POST", path)[0].idempotency_key
    repeats = [c for c in world.calls("POST", path) if c.idempotency_key == lost_key]
    assert (repeats[-1].status, repeats[-1].replayed, repeats[-1].dropped) == (200, True, False)


def test_a_lost_create_retried_after_a_later_update_is_the_one_customer_as_held_now(
    world: World,
) -> None:
    service = world.service()
    lose_answers(world, r"^/v1/customers$")
    with pytest.raises(ProviderUnavailableError):
        service.create_contact(member(), idempotency_key="contact-1")
    world.emulator.clear_faults()
    [made] = world.emulator.state()["customers"]  # applied, its answer lost
    # Two hours on (within Stripe's key window), search has indexed it: the later change
    # under another key finds the customer and updates it.
    world.emulator.advance_clock(timedelta(hours=2))
    later = service.create_contact(member(email="later@example.org"), idempotency_key="contact-2")
    assert later.provider_id == made["id"]
    sent_before = len(world.calls("POST", "/v1/customers"))
    retried = service.create_contact(member(), idempotency_key="contact-1")
    # The retry found the customer the lost create made (without writing) and read it: the
    # create is not sent again, since a repeat Stripe no longer replays would make another.
    assert retried == later
    [customer] = world.emulator.state()["customers"]
    assert customer["email"] == "later@example.org"
    assert len(world.calls("POST", "/v1/customers")) == sent_before


def test_a_contact_batch_replayed_after_a_restart_is_existing_and_keeps_a_later_update(
    world: World,
) -> None:
    items = [BatchItem(member(), "contact-1"), BatchItem(member("M-1002"), "contact-2")]
    first = world.service().create_contacts(items)
    assert [r.outcome for r in first] == [BatchOutcome.CREATED] * 2
    world.service().create_contact(member(email="later@example.org"), idempotency_key="c-3")
    again = world.service().create_contacts(items)  # a restart: a new provider, same ledger
    assert [r.outcome for r in again] == [BatchOutcome.EXISTING] * 2
    assert [r.unwrap().provider_id for r in again] == [r.unwrap().provider_id for r in first]
    assert again[0].unwrap().email == "later@example.org"
    emails = {c["metadata"]["ams_account"]: c["email"] for c in world.emulator.state()["customers"]}
    assert emails == {"M-1001": "later@example.org", "M-1002": "ada@example.org"}


def test_a_contact_batch_whose_answer_was_lost_is_existing_when_retried(world: World) -> None:
    items = [BatchItem(member(), "contact-1")]
    lose_answers(world, r"^/v1/customers$")
    [lost] = world.service().create_contacts(items)
    assert isinstance(lost.error, ProviderUnavailableError)
    world.emulator.clear_faults()
    [again] = world.service().create_contacts(items)  # the create is replayed by Stripe
    assert again.outcome is BatchOutcome.EXISTING
    [customer] = world.emulator.state()["customers"]
    assert again.unwrap().provider_id == customer["id"]
    # Another installation's ledger: Stripe's replay of the create is not a customer made.
    [elsewhere] = world.service(InMemoryIdempotencyStore()).create_contacts(
        [BatchItem(member(), "contact-9")]
    )
    assert (elsewhere.outcome, elsewhere.unwrap().provider_id) == (
        BatchOutcome.EXISTING,
        customer["id"],
    )
    assert world.count("customers") == 1


# -- invoices ------------------------------------------------------------------------------


def test_an_invoice_is_built_from_lines_finalized_and_open(world: World) -> None:
    service = world.service()
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    assert invoice.status is InvoiceStatus.OPEN
    assert invoice.provider_status == "open"
    assert (invoice.total, invoice.amount_due, invoice.amount_paid) == (
        Decimal("135.00"),
        Decimal("135.00"),
        Decimal(0),
    )
    assert [(line.description, line.quantity) for line in invoice.line_items] == [
        ("Annual membership", Decimal(1)),
        ("Journal", Decimal(2)),
    ]
    url = service.get_invoice_url(invoice.provider_id)
    assert url.startswith(world.emulator.base_url)
    assert httpx.get(url).status_code == 200  # the emulator serves its hosted page
    [stored] = world.emulator.state()["invoices"]
    assert (stored["status"], stored["amount_due"], stored["hosted_invoice_url"]) == (
        "open",
        13500,
        url,
    )


def test_the_same_key_gives_the_same_invoice(world: World) -> None:
    service = world.service()
    first = service.create_invoice(request(), idempotency_key="invoice-1")
    again = service.create_invoice(request(), idempotency_key="invoice-1")
    assert again.provider_id == first.provider_id
    assert world.count("invoices") == 1


def test_a_lost_answer_is_retried_with_its_key_and_makes_one_invoice(world: World) -> None:
    service = world.service()
    world.emulator.add_fault(
        FaultRule(kind=FaultKind.DROP_AFTER, method="POST", path=r"^/v1/invoices$", count=1)
    )
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    assert invoice.status is InvoiceStatus.OPEN
    assert world.count("invoices") == 1
    creates = world.calls("POST", "/v1/invoices")
    assert [(c.dropped, c.replayed) for c in creates] == [(True, False), (False, True)]
    assert creates[0].idempotency_key == creates[1].idempotency_key


def test_a_lost_answer_past_the_key_window_is_found_not_made_again(world: World) -> None:
    service = world.service()
    world.emulator.add_fault(  # every attempt's answer is lost: the outcome stays unknown
        FaultRule(kind=FaultKind.DROP_AFTER, method="POST", path=r"^/v1/invoices$", count=10)
    )
    with pytest.raises(ProviderUnavailableError):
        service.create_invoice(request(), idempotency_key="invoice-1")
    world.emulator.clear_faults()
    world.emulator.advance_clock(timedelta(hours=25))  # Stripe no longer knows the key
    found = world.service().create_invoice(request(), idempotency_key="invoice-1")
    assert found.status is InvoiceStatus.OPEN
    assert world.count("invoices") == 1
    assert len(found.line_items) == 2


def test_send_emails_the_invoice_once_per_key(world: World) -> None:
    service = world.service()
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    service.send_invoice(invoice, idempotency_key="send-1")
    service.send_invoice(invoice, idempotency_key="send-1")
    sends = world.calls("POST", f"/v1/invoices/{invoice.provider_id}/send")
    assert [call.status for call in sends if not call.replayed] == [200]
    assert service.get_invoice(invoice.provider_id).status is InvoiceStatus.OPEN


def test_void_voids_and_listeners_hear_it(world: World) -> None:
    service = world.service()
    listener = RecordingListener()
    service.add_listener(listener)
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    voided = service.void_invoice(invoice.provider_id)
    assert (voided.status, voided.provider_status) == (InvoiceStatus.VOID, "void")
    assert world.emulator.state()["invoices"][0]["status"] == "void"
    assert listener.kinds_for(invoice.provider_id) == ["voided"]


def test_mark_uncollectible_is_a_write_off_listeners_hear(world: World) -> None:
    service = world.service()
    listener = RecordingListener()
    service.add_listener(listener)
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    service.sync_invoices([invoice.provider_id])
    provider = world.providers[-1]
    written_off = provider.mark_uncollectible(invoice.provider_id)
    assert (written_off.status, written_off.provider_status) == (
        InvoiceStatus.UNCOLLECTIBLE,
        "uncollectible",
    )
    changes = service.sync_invoices([invoice.provider_id])
    assert [change.kind.value for change in changes] == ["written_off"]
    assert listener.kinds_for(invoice.provider_id) == ["written_off"]


def test_read_by_id_and_an_unknown_id(world: World) -> None:
    service = world.service()
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    read = service.get_invoice(invoice.provider_id)
    assert (read.provider_id, read.total, read.status, read.contact.name) == (
        invoice.provider_id,
        invoice.total,
        InvoiceStatus.OPEN,
        "Ada Lovelace",
    )
    with pytest.raises(NotFoundError):
        service.get_invoice("in_1NoSuchInvoice000000000")


def test_changed_since_reads_the_events_api(world: World) -> None:
    service = world.service()
    before = service.create_invoice(request(member("M-1")), idempotency_key="invoice-1")
    later = service.create_invoice(request(member("M-2")), idempotency_key="invoice-2")
    world.emulator.advance_clock(60)
    since = world.emulator.clock.now()
    world.emulator.advance_clock(60)
    world.emulator.pay_invoice(later.provider_id)
    changed = service.get_invoices_changed_since(since)
    assert [(i.provider_id, i.status) for i in changed] == [(later.provider_id, InvoiceStatus.PAID)]
    assert before.provider_id not in {i.provider_id for i in changed}
    assert world.calls("GET", "/v1/events")


def test_a_past_due_date_is_refused_naming_the_field(world: World) -> None:
    yesterday = date.today() - timedelta(days=1)
    past = attrs.evolve(request(), issue_date=yesterday, due_date=yesterday)
    with pytest.raises(ValidationError) as raised:
        world.service().create_invoice(past, idempotency_key="invoice-1")
    assert [error.field for error in raised.value.errors] == ["due_date"]
    assert world.count("invoices") == 0


# -- failures ------------------------------------------------------------------------------


def test_a_429_is_waited_out_and_retried(world: World) -> None:
    service = world.service()
    world.emulator.add_fault(
        FaultRule(kind=FaultKind.RATE_LIMIT, method="POST", path=r"^/v1/customers$", count=2)
    )
    started = world.emulator.clock.elapsed()
    record = service.create_contact(member(), idempotency_key="contact-1")
    assert [c.status for c in world.calls("POST", "/v1/customers")] == [429, 429, 200]
    assert world.emulator.clock.elapsed() > started  # it waited (on the emulator's clock)
    assert world.count("customers") == 1
    assert record.provider_id == world.emulator.state()["customers"][0]["id"]


def test_pacing_keeps_a_burst_under_stripes_limit(world: World) -> None:
    service = world.service()
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    started = world.emulator.clock.elapsed()
    for _ in range(60):  # well over the 25 reads a second of test mode
        service.get_invoice(invoice.provider_id)
    assert not [c for c in world.emulator.calls if c.status == 429]
    assert world.emulator.clock.elapsed() - started >= 2.0  # 60 reads need 3 windows


def test_a_5xx_that_stripe_says_to_retry_is_retried(world: World) -> None:
    service = world.service()
    world.emulator.add_fault(
        FaultRule(
            kind=FaultKind.SERVER_ERROR,
            method="POST",
            path=r"^/v1/customers$",
            count=2,
            should_retry=True,
        )
    )
    service.create_contact(member(), idempotency_key="contact-1")
    assert [c.status for c in world.calls("POST", "/v1/customers")] == [500, 500, 200]
    assert world.count("customers") == 1


def test_a_5xx_that_stripe_says_not_to_retry_is_not(world: World) -> None:
    service = world.service()
    world.emulator.add_fault(
        FaultRule(
            kind=FaultKind.SERVER_ERROR,
            method="POST",
            path=r"^/v1/customers$",
            count=1,
            should_retry=False,
        )
    )
    with pytest.raises(ProviderUnavailableError):
        service.create_contact(member(), idempotency_key="contact-1")
    assert [c.status for c in world.calls("POST", "/v1/customers")] == [500]


# -- webhooks ------------------------------------------------------------------------------


def test_signed_deliveries_are_verified_and_parsed_over_http(world: World) -> None:
    service = world.service()
    listener = RecordingListener()
    service.add_listener(listener)
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    world.emulator.deliver_webhooks()  # invoice.created, .finalized ... over real HTTP
    world.emulator.pay_invoice(invoice.provider_id)
    reads_before = len(world.calls("GET", f"/v1/invoices/{invoice.provider_id}"))
    attempts = world.emulator.deliver_webhooks()
    assert attempts
    assert all(attempt.ok for attempt in attempts)
    world.receiver.wait_processed(world.receiver.answers.count(200))
    assert set(world.receiver.answers) == {200}
    assert listener.kinds_for(invoice.provider_id)[-1] == "paid"
    # Snapshot events carry the invoice: nothing was read to learn it was paid.
    assert len(world.calls("GET", f"/v1/invoices/{invoice.provider_id}")) == reads_before
    assert world.emulator.pending_deliveries() == 0


def test_an_expired_signature_is_refused_and_the_event_delivered_again(world: World) -> None:
    service = world.service()
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    world.emulator.deliver_webhooks()
    world.emulator.pay_invoice(invoice.provider_id)
    old = int(world.emulator.clock.now().timestamp()) - 600  # Stripe's tolerance is 300 s
    refused = world.emulator.deliver_webhooks(at=old)
    assert refused
    assert {attempt.status for attempt in refused} == {401}
    assert world.emulator.pending_deliveries() == len(refused)
    accepted = world.emulator.deliver_webhooks()
    assert {attempt.status for attempt in accepted} == {200}
    assert service.get_invoice(invoice.provider_id).status is InvoiceStatus.PAID


def test_a_delivery_signed_with_another_secret_is_refused(world: World) -> None:
    world.service()
    body = b'{"id": "evt_1", "object": "event", "type": "invoice.paid"}'
    stamp = int(world.emulator.clock.now().timestamp())
    forged = delivery_headers(body, "whsec_" + "not-the-endpoints-secret", stamp)
    answer = httpx.post(world.receiver.url, content=body, headers=forged)
    assert answer.status_code == 401


# -- a 5xx Stripe kept under a key -----------------------------------------------------------
# Stripe stores the answer of a request that started executing, a 500 included, and replays it
# to every request with that key for 24 hours (stripe-api.md 5, 6.3); the crash soak (seed 8,
# 400 members) lost a member to it. The emulator's ``server_error`` with ``stored=True`` keeps
# the 500 under the key (``applied=True``: the change is kept too, then the 500 answered).


def stored_500(path: str, *, count: int = 1, applied: bool = False) -> FaultRule:
    return FaultRule(
        kind=FaultKind.SERVER_ERROR,
        method="POST",
        path=path,
        count=count,
        stored=True,
        applied=applied,
    )


def customer_generation(ledger: InMemoryIdempotencyStore, account: str = "M-1001") -> str | None:
    record = ledger.get(GENERATION_PREFIX + stripe_key("customer", account))
    return None if record is None else record.result


def test_a_customer_create_past_a_stored_500_uses_a_new_key(world: World) -> None:
    service = world.service()
    world.emulator.add_fault(stored_500(r"^/v1/customers$"))
    record = service.create_contact(member(), idempotency_key="contact-1")
    assert world.count("customers") == 1
    creates = world.calls("POST", "/v1/customers")
    # The 500, its replay (the key is Stripe's for a day), then the create under a new key.
    assert [(c.status, c.replayed) for c in creates] == [(500, False), (500, True), (200, False)]
    assert creates[0].idempotency_key == creates[1].idempotency_key
    assert creates[2].idempotency_key != creates[0].idempotency_key
    assert record.provider_id == world.emulator.state()["customers"][0]["id"]


def test_a_customer_a_stored_500_made_anyway_is_found_not_made_again(world: World) -> None:
    service = world.service()
    world.emulator.add_fault(stored_500(r"^/v1/customers$", applied=True))
    record = service.create_contact(member(), idempotency_key="contact-1")
    assert world.count("customers") == 1
    assert record.provider_id == world.emulator.state()["customers"][0]["id"]
    creates = world.calls("POST", "/v1/customers")
    assert [(c.status, c.replayed) for c in creates] == [(500, False), (500, True)]


def test_an_invoice_past_stored_500s_on_every_step_is_one_open_invoice(world: World) -> None:
    service = world.service()
    for path in (r"^/v1/invoices$", r"^/v1/invoiceitems$", r"/finalize$"):
        world.emulator.add_fault(stored_500(path))
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    assert invoice.status is InvoiceStatus.OPEN
    assert len(invoice.line_items) == 2
    assert world.count("invoices") == 1
    assert len([c for c in world.calls("POST", "/v1/invoices") if c.status == 200]) == 1


def test_a_draft_a_stored_500_made_anyway_is_completed_not_made_again(world: World) -> None:
    service = world.service()
    world.emulator.add_fault(stored_500(r"^/v1/invoices$", applied=True))
    world.emulator.add_fault(stored_500(r"^/v1/invoiceitems$", applied=True))
    world.emulator.add_fault(stored_500(r"/finalize$", applied=True))
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    assert invoice.status is InvoiceStatus.OPEN
    assert world.count("invoices") == 1
    assert len(invoice.line_items) == 2  # the line made under the 500 is not added twice
    assert not [c for c in world.calls("POST", "/v1/invoices") if c.status == 200]


@pytest.mark.parametrize("applied", [False, True])
def test_a_send_past_a_stored_500_emails_once(world: World, applied: bool) -> None:
    service = world.service()
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    path = f"/v1/invoices/{invoice.provider_id}/send"
    world.emulator.add_fault(stored_500(f"^{path}$", applied=applied))
    result = service.send_invoice(invoice, idempotency_key="send-1")
    assert (result.sent, result.recipient) == (True, "ada@example.org")
    sent = [e for e in world.emulator.events() if e["type"] == "invoice.sent"]
    assert len(sent) == 1


def test_the_new_generation_is_kept_in_the_ledger_across_a_restart(world: World) -> None:
    # The fault fires on the replay too: two per generation.
    world.emulator.add_fault(stored_500(r"^/v1/customers$", count=2 * MAX_GENERATIONS_PER_CALL))
    with pytest.raises(ProviderUnavailableError):
        world.service().create_contact(member(), idempotency_key="contact-1")
    assert world.count("customers") == 0
    assert customer_generation(world.ledger) == str(MAX_GENERATIONS_PER_CALL)
    tried = {c.idempotency_key for c in world.calls("POST", "/v1/customers")}
    assert len(tried) == MAX_GENERATIONS_PER_CALL

    restarted = world.service()  # a new process over the same durable ledger
    restarted.create_contact(member(), idempotency_key="contact-1")
    assert world.count("customers") == 1
    last = world.calls("POST", "/v1/customers")[-1]
    assert (last.status, last.replayed) == (200, False)
    assert last.idempotency_key not in tried


def test_a_500_stripe_says_not_to_retry_keeps_its_key(world: World) -> None:
    service = world.service()
    world.emulator.add_fault(
        FaultRule(
            kind=FaultKind.SERVER_ERROR,
            method="POST",
            path=r"^/v1/customers$",
            count=1,
            should_retry=False,
        )
    )
    with pytest.raises(ProviderUnavailableError):
        service.create_contact(member(), idempotency_key="contact-1")
    assert customer_generation(world.ledger) is None


# -- send without a read first ---------------------------------------------------------------


def test_send_is_one_request_and_reads_nothing_first(world: World) -> None:
    service = world.service()
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    before = len(world.emulator.calls)
    result = service.send_invoice(invoice, idempotency_key="send-1")
    assert (result.sent, result.recipient) == (True, "ada@example.org")
    during = world.emulator.calls[before:]
    assert [(c.method, c.path) for c in during] == [
        ("POST", f"/v1/invoices/{invoice.provider_id}/send")
    ]


def test_an_invoice_voided_since_it_was_read_is_refused_by_stripe_naming_it(
    world: World,
) -> None:
    service = world.service()
    invoice = service.create_invoice(request(), idempotency_key="invoice-1")
    service.void_invoice(invoice.provider_id)
    with pytest.raises(InvalidStateError) as refused:
        service.send_invoice(invoice, idempotency_key="send-1")  # the OPEN copy held before
    assert refused.value.resource_id == invoice.provider_id
    assert invoice.provider_id in str(refused.value)
    assert not [e for e in world.emulator.events() if e["type"] == "invoice.sent"]
