"""Bulk creates against the emulator: 50 per request, per-element errors, calls per member."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import attrs
import pytest
from xero_rig import Rig

from ams_billing import (
    BatchItem,
    BatchOutcome,
    Contact,
    InvoiceRequest,
    LineItem,
    ProviderUnavailableError,
    ValidationError,
)
from ams_billing.emulators.xero import FaultKind, FaultRule


def _requests(count: int, prefix: str = "acct") -> list[InvoiceRequest]:
    return [
        InvoiceRequest(
            contact=Contact(f"{prefix}-{i}", f"Member {i}", f"m{i}@example.org"),
            line_items=[LineItem("Annual membership", Decimal(1), Decimal("120.00"))],
            currency="NZD",
            issue_date=date(2026, 7, 1),
            due_date=date(2026, 7, 31),
            reference=f"{prefix}-MEMBERSHIP-{i}",
        )
        for i in range(count)
    ]


def _items(requests: list[InvoiceRequest]) -> list[BatchItem[InvoiceRequest]]:
    return [BatchItem(request, f"invoice:{request.reference}") for request in requests]


def _invoices_in_books(rig: Rig) -> Counter[str]:
    return Counter(invoice.get("Reference", "") for invoice in rig.emulator.books().invoices)


def test_one_contacts_post_and_one_invoices_put_per_50_members(rig: Rig) -> None:
    results = rig.service.create_invoices(_items(_requests(120)))
    assert [r.outcome for r in results] == [BatchOutcome.CREATED] * 120
    posts, puts = rig.api("POST", "/Contacts"), rig.api("PUT", "/Invoices")
    assert [len(r.json()["Contacts"]) for r in posts] == [50, 50, 20]
    assert [len(r.json()["Invoices"]) for r in puts] == [50, 50, 20]
    assert rig.api() == [*posts, *puts]  # no lookups on the happy path
    for request in [*posts, *puts]:
        assert request.query["summarizeErrors"] == "false"
        assert request.headers["idempotency-key"].startswith("ams-billing:")
        assert len(request.headers["idempotency-key"]) <= 128
    assert len({r.headers["idempotency-key"] for r in puts}) == 3


@pytest.mark.parametrize("members", [120, 1000])
def test_billing_members_costs_about_one_call_each(
    make_rig: Callable[..., Rig], members: int
) -> None:
    rig = make_rig()
    results = rig.service.create_invoices(_items(_requests(members)))
    for result in results:
        assert rig.service.send_invoice(result.unwrap()).sent
    calls = rig.emulator.calls
    by_endpoint = Counter(call.endpoint for call in calls)
    chunks = math.ceil(members / 50)
    # One token, ceil(N/50) contact saves, ceil(N/50) invoice creates, one email per member.
    assert by_endpoint == {
        "POST /connect/token": 1,
        "POST /Contacts": chunks,
        "PUT /Invoices": chunks,
        "POST /Invoices/{id}/Email": members,
    }
    assert 429 not in {call.status for call in calls}
    # 2 * ceil(N/50) + 1 calls on top of the emails: 5.8 % for 120 members, 4.1 % for 1,000.
    if members >= 1000:
        assert len(calls) <= 1.05 * members


def test_invalid_elements_fail_alone_and_valid_ones_are_created(rig: Rig) -> None:
    requests = _requests(3, "mixed")
    bad_line = attrs.evolve(requests[1].line_items[0], account_code="NOPE9")
    requests[1] = attrs.evolve(requests[1], line_items=[bad_line])
    results = rig.service.create_invoices(_items(requests))
    assert [r.outcome for r in results] == [
        BatchOutcome.CREATED,
        BatchOutcome.FAILED,
        BatchOutcome.CREATED,
    ]
    error = results[1].error
    assert isinstance(error, ValidationError)
    assert "items[1].line_items[0].account_code" in error.fields
    assert len(rig.api("PUT", "/Invoices")) == 1
    books = _invoices_in_books(rig)
    assert (books["mixed-MEMBERSHIP-0"], books["mixed-MEMBERSHIP-1"]) == (1, 0)
    # The refused key may be used again once the request is corrected.
    fixed = attrs.evolve(requests[1], line_items=[attrs.evolve(bad_line, account_code="200")])
    [retried] = rig.service.create_invoices([BatchItem(fixed, results[1].idempotency_key)])
    assert retried.outcome is BatchOutcome.CREATED


def test_a_response_lost_once_is_retried_with_the_same_key(rig: Rig) -> None:
    rig.emulator.add_fault(
        FaultRule(kind=FaultKind.DROP_AFTER, method="PUT", path=r"/Invoices$", count=1)
    )
    results = rig.service.create_invoices(_items(_requests(60, "lost-once")))
    assert all(r.outcome is BatchOutcome.CREATED for r in results)
    puts = rig.api("PUT", "/Invoices")
    assert len(puts) == 3
    assert puts[0].headers["idempotency-key"] == puts[1].headers["idempotency-key"]
    assert set(_invoices_in_books(rig).values()) == {1}
    assert sum(_invoices_in_books(rig).values()) == 60


def test_a_chunk_applied_but_never_answered_is_found_on_retry(rig: Rig) -> None:
    attempts = rig.provider.settings.max_attempts
    rig.emulator.add_fault(
        FaultRule(kind=FaultKind.DROP_AFTER, method="PUT", path=r"/Invoices$", count=attempts)
    )
    items = _items(_requests(70, "lost"))
    lost = rig.service.create_invoices(items)
    # The first chunk's outcome is unknown; the second was not sent.
    assert all(isinstance(r.error, ProviderUnavailableError) for r in lost)
    assert sum(_invoices_in_books(rig).values()) == 50
    retried = rig.service.create_invoices(items)
    outcomes = [r.outcome for r in retried]
    assert outcomes == [BatchOutcome.EXISTING] * 50 + [BatchOutcome.CREATED] * 20
    books = _invoices_in_books(rig)
    assert sum(books.values()) == 70
    assert set(books.values()) == {1}
    assert [r.unwrap().reference for r in retried] == [i.request.reference for i in items]


def test_contacts_already_in_xero_are_found_and_updated(rig: Rig) -> None:
    other = rig.second_provider()
    existing = Contact("known-1", "Known Member", "old@example.org")
    other.create_contact(existing, "contact:elsewhere")
    moved = attrs.evolve(existing, email="new@example.org")
    fresh = Contact("known-2", "New Member", "new2@example.org")
    results = rig.service.create_contacts(
        [BatchItem(moved, "contact:known-1"), BatchItem(fresh, "contact:known-2")]
    )
    assert [r.outcome for r in results] == [BatchOutcome.EXISTING, BatchOutcome.CREATED]
    assert results[0].unwrap().email == "new@example.org"
    contacts = [c for c in rig.emulator.books().contacts if c.get("ContactNumber") == "known-1"]
    assert len(contacts) == 1
    assert contacts[0]["EmailAddress"] == "new@example.org"
    again = rig.service.create_contacts(
        [BatchItem(moved, "contact:known-1"), BatchItem(fresh, "contact:known-2")]
    )
    assert [r.outcome for r in again] == [BatchOutcome.EXISTING] * 2


def test_a_name_already_taken_costs_one_more_call_not_two(rig: Rig) -> None:
    first = [BatchItem(Contact(f"old-{i}", f"Member {i}"), f"contact:old-{i}") for i in range(5)]
    rig.service.create_contacts(first)
    rig.transport.clear()
    clashing = [BatchItem(Contact(f"new-{i}", f"Member {i}"), f"contact:new-{i}") for i in range(5)]
    results = rig.service.create_contacts(clashing)
    assert [r.outcome for r in results] == [BatchOutcome.CREATED] * 5
    posts = rig.api("POST", "/Contacts")
    assert len(posts) == 1 + 5, "the batch, then each clashing contact once under its unique name"
    names = [r.json()["Contacts"][0]["Name"] for r in posts[1:]]
    assert names == [f"Member {i} (new-{i})" for i in range(5)]
    assert [r.unwrap().name for r in results] == [f"Member {i}" for i in range(5)]
