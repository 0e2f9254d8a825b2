"""The public Hypothesis strategies: always valid, and they do reach the edges they promise."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ams_billing import InvoiceRequest
from ams_billing.contracts import strategies
from ams_billing.core.money import decimal_places

CHECK = settings(max_examples=60, database=None, derandomize=True, deadline=None)
# Generation only: no shrinking, nothing to fail; the survey counts what was reached.
SURVEY = settings(
    max_examples=300,
    phases=[Phase.generate],
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def lines_total(request: InvoiceRequest) -> Decimal:
    return sum((line.line_amount(request.currency) for line in request.line_items), Decimal(0))


@CHECK
@given(strategies.invoice_requests())
def test_invoice_requests_never_total_below_zero(request: InvoiceRequest) -> None:
    assert lines_total(request) >= 0
    assert 1 <= len(request.line_items) <= strategies.MAX_LINE_ITEMS
    for line in request.line_items:
        assert decimal_places(line.unit_amount) <= 4
        assert abs(line.unit_amount) <= strategies.MAX_UNIT_AMOUNT
        assert 0 <= line.quantity <= strategies.MAX_QUANTITY
        assert abs(line.line_amount(request.currency)) < Decimal("10000000000")


@CHECK
@given(strategies.invoice_requests(currency="JPY", allow_zero_total=False, max_lines=5))
def test_invoice_requests_can_be_kept_above_zero(request: InvoiceRequest) -> None:
    assert lines_total(request) > 0
    assert len(request.line_items) <= 5
    assert request.currency == "JPY"


STRIPE_LARGEST = 99_999_999
"""Stripe's declared largest amount, in minor units."""


@CHECK
@given(
    st.sampled_from([("USD", Decimal("999999.99")), ("JPY", Decimal(99_999_999))]).flatmap(
        lambda pair: st.tuples(
            st.just(pair[1]),
            strategies.invoice_requests(
                currency=pair[0], largest_amount=STRIPE_LARGEST, quantity_places=0
            ),
        )
    )
)
def test_invoice_requests_keep_within_a_declared_largest_amount(
    limit_and_request: tuple[Decimal, InvoiceRequest],
) -> None:
    limit, request = limit_and_request
    for line in request.line_items:
        assert abs(line.line_amount(request.currency)) <= limit
    # Tax on top (exclusive, or the provider's default) may double it at 100 %.
    taxed_on_top = request.amount_type is None or request.amount_type.value == "EXCLUSIVE"
    assert 0 <= lines_total(request) <= (limit / 2 if taxed_on_top else limit)


def test_invoice_requests_reach_a_declared_largest_amount() -> None:
    limit = Decimal("999999.99")
    reached: set[str] = set()

    @SURVEY
    @given(strategies.invoice_requests(currency="USD", largest_amount=STRIPE_LARGEST))
    def survey(request: InvoiceRequest) -> None:
        amounts = [line.line_amount("USD") for line in request.line_items]
        if limit in amounts:
            reached.add("a line at the limit")
        if lines_total(request) == limit:
            reached.add("a total at the limit")

    survey()
    assert reached == {"a line at the limit", "a total at the limit"}


@CHECK
@given(strategies.contacts())
def test_contact_text_is_trimmed_and_printable(contact: Any) -> None:
    for text in (contact.name, contact.account_reference):
        assert text == text.strip()
        assert not any(unicodedata.category(char).startswith("C") for char in text)


@CHECK
@given(strategies.idempotency_keys())
def test_idempotency_keys_fit_every_provider(key: str) -> None:
    assert 1 <= len(key) <= 128
    assert key.strip() == key
    assert key.isascii()


EDGES: dict[str, Callable[[InvoiceRequest], bool]] = {
    "twenty lines": lambda r: len(r.line_items) == strategies.MAX_LINE_ITEMS,
    "a discount line": lambda r: any(line.unit_amount < 0 for line in r.line_items),
    "a four-place discount": lambda r: any(
        line.unit_amount < 0 and decimal_places(line.unit_amount) == 4 for line in r.line_items
    ),
    "a four-place unit amount": lambda r: any(
        decimal_places(line.unit_amount.normalize()) == 4 for line in r.line_items
    ),
    "the smallest unit amount": lambda r: any(
        line.unit_amount == Decimal("0.0001") for line in r.line_items
    ),
    "the largest unit amount": lambda r: any(
        line.unit_amount == strategies.MAX_UNIT_AMOUNT for line in r.line_items
    ),
    "a zero total": lambda r: lines_total(r) == 0,
    "a 4000-character description": lambda r: any(
        len(line.description) == 4000 for line in r.line_items
    ),
    "a non-ASCII name": lambda r: not r.contact.name.isascii(),
    "a 255-character name": lambda r: len(r.contact.name) == 255,
    "a 50-character account reference": lambda r: len(r.contact.account_reference) == 50,
    "no email": lambda r: r.contact.email is None,
    "inclusive amounts": lambda r: r.amount_type is not None and r.amount_type.value == "INCLUSIVE",
    "the provider's default amount type": lambda r: r.amount_type is None,
}


def test_invoice_requests_reach_the_edges() -> None:
    seen: set[str] = set()

    @SURVEY
    @given(strategies.invoice_requests())
    def survey(request: InvoiceRequest) -> None:
        seen.update(name for name, reached in EDGES.items() if reached(request))

    survey()
    assert sorted(set(EDGES) - seen) == []


def test_idempotency_keys_reach_the_length_limit() -> None:
    lengths: set[int] = set()

    @SURVEY
    @given(strategies.idempotency_keys())
    def survey(key: str) -> None:
        lengths.add(len(key))

    survey()
    assert {1, 128} <= lengths


def test_texts_respect_their_limit() -> None:
    @CHECK
    @given(
        st.integers(min_value=1, max_value=300).flatmap(
            lambda n: st.tuples(st.just(n), strategies.texts(n))
        )
    )
    def check(limit_and_text: tuple[int, str]) -> None:
        limit, text = limit_and_text
        assert 1 <= len(text) <= limit

    check()
