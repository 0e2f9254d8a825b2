"""Hypothesis strategies for billing data: contacts, line items, invoice requests, keys.

Public, so a provider's own tests can reuse them::

    from hypothesis import given
    from ams_billing.contracts import strategies as bs

    @given(bs.invoice_requests(currency="AUD", account_code="200"))
    def test_my_provider_totals(request): ...

Values stay inside the model limits (names up to 255 characters, account references up to 50,
descriptions up to 4000) and inside what accounting systems accept: unit amounts up to
:data:`MAX_UNIT_AMOUNT` with up to four decimal places, quantities up to :data:`MAX_QUANTITY`,
so that a line never exceeds Xero's 9,999,999,999.99 (fewer places where a provider keeps
fewer: ``quantity_places``). Issue dates lie in the year from :data:`TODAY`, due dates on or
after them, so a provider that refuses past due dates accepts them. Text includes non-ASCII
letters, marks, symbols and emoji, and strings at the length limit; it never has control
characters or leading or trailing white space, which providers trim.
"""

from __future__ import annotations

import random
import string
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from ams_billing.core.models import (
    MAX_ACCOUNT_REFERENCE_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REFERENCE_LENGTH,
    AmountType,
    Contact,
    InvoiceRequest,
    LineItem,
)
from ams_billing.core.money import QUANTITY_PLACES, UNIT_AMOUNT_PLACES, currency_places

__all__ = [
    "MAX_LINE_ITEMS",
    "MAX_QUANTITY",
    "MAX_UNIT_AMOUNT",
    "TODAY",
    "account_references",
    "contact_names",
    "contacts",
    "emails",
    "idempotency_keys",
    "invoice_requests",
    "issue_dates",
    "line_items",
    "quantities",
    "texts",
    "unit_amounts",
]

MAX_UNIT_AMOUNT = Decimal("999999.9999")
"""The largest unit amount generated."""

MAX_QUANTITY = Decimal("10000")
"""The largest quantity generated; with :data:`MAX_UNIT_AMOUNT` a line stays below 10**10."""

MAX_LINE_ITEMS = 20
"""The default largest number of lines on a generated invoice."""

_TEXT_CHARACTERS = st.characters(
    categories=["L", "M", "N", "P", "S", "Zs"], exclude_characters="\u00a0\u3000"
)
_KEY_ALPHABET = string.ascii_letters + string.digits + "-_:."
TODAY = date.today()
"""The day the suite's dates are relative to, taken once per session (the import)."""

ISSUE_DAYS = 365
"""Generated issue dates lie from :data:`TODAY` to this many days later."""

_DUE_IN_DAYS = st.integers(min_value=0, max_value=120)
_BOOLEANS = st.booleans()
_AMOUNT_TYPES: st.SearchStrategy[AmountType | None] = st.sampled_from([*AmountType, None])
_SHUFFLE_SEEDS = st.integers(min_value=0, max_value=2**16)


def _clean(value: str) -> str | None:
    stripped = value.strip()
    return stripped or None


def texts(max_size: int, *, min_size: int = 1) -> st.SearchStrategy[str]:
    """Unicode text up to ``max_size`` characters, often short, sometimes at the limit.

    Long strings repeat a short drawn chunk, which keeps Hypothesis fast at 4000 characters.
    """
    short = st.text(_TEXT_CHARACTERS, min_size=min_size, max_size=min(max_size, 40))
    chunk = st.text(_TEXT_CHARACTERS, min_size=1, max_size=8)
    long = st.builds(
        lambda part, size: (part * (size // len(part) + 1))[:size],
        chunk,
        st.one_of(st.just(max_size), st.integers(min_value=min_size, max_value=max_size)),
    )
    return (
        st.one_of(short, short, long)
        .map(lambda value: value.strip())
        .filter(lambda value: len(value) >= min_size)
    )


def contact_names() -> st.SearchStrategy[str]:
    """Contact names: non-ASCII included, up to the 255-character limit."""
    return st.one_of(
        st.sampled_from(
            ["Ada Lovelace", "Māori Tūhono", "Zoë O'Brien-Åström", "李小龍", "Ωmega 🎻"]
        ),
        texts(MAX_NAME_LENGTH),
    )


def account_references() -> st.SearchStrategy[str]:
    """The caller's ids for billing accounts: UUIDs and short codes, up to 50 characters."""
    return st.one_of(
        st.uuids().map(str),
        st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=12),
        st.text(
            string.ascii_letters + string.digits + "-_",
            min_size=MAX_ACCOUNT_REFERENCE_LENGTH,
            max_size=MAX_ACCOUNT_REFERENCE_LENGTH,
        ),
    )


def emails() -> st.SearchStrategy[str]:
    """Plain deliverable-looking addresses (ASCII local part and domain)."""
    atom = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
    local = st.lists(atom, min_size=1, max_size=3).map(".".join)
    domain = st.lists(atom, min_size=1, max_size=3).map(".".join)
    tld = st.sampled_from(["org", "nz", "com", "co.nz", "example"])
    return st.builds(lambda a, b, c: f"{a}@{b}.{c}", local, domain, tld)


def contacts(
    *,
    account_references: st.SearchStrategy[str] | None = None,
    names: st.SearchStrategy[str] | None = None,
    emails: st.SearchStrategy[str | None] | None = None,
) -> st.SearchStrategy[Contact]:
    """Contacts; the email is absent about a third of the time."""
    return st.builds(
        Contact,
        account_reference=(
            account_references if account_references is not None else _account_references()
        ),
        name=names if names is not None else contact_names(),
        email=emails if emails is not None else st.one_of(st.none(), _emails()),
    )


def issue_dates() -> st.SearchStrategy[date]:
    """Issue dates from :data:`TODAY` to :data:`ISSUE_DAYS` days later."""
    return st.dates(min_value=TODAY, max_value=TODAY + timedelta(days=ISSUE_DAYS))


def quantities(*, places: int = QUANTITY_PLACES) -> st.SearchStrategy[Decimal]:
    """Quantities from 0 to :data:`MAX_QUANTITY` with up to ``places`` decimal places.

    Give a provider's declared ``behaviour.quantity_places`` (Stripe: 0, whole quantities).
    """
    edges = [Decimal(q) for q in ("1", "1", "2", "0", "0.5", "0.0001", "3.3333", "10000")]
    return st.one_of(
        st.sampled_from([q for q in edges if q == round(q, places)]),
        st.integers(min_value=0, max_value=100).map(Decimal),
        st.decimals(min_value=0, max_value=MAX_QUANTITY, places=min(places, QUANTITY_PLACES)),
    )


def unit_amounts(*, max_value: Decimal = MAX_UNIT_AMOUNT) -> st.SearchStrategy[Decimal]:
    """Non-negative unit amounts with up to four decimal places, edges included."""
    edges = ["0", "0.0001", "0.005", "0.0049", "0.0050", "0.01", "0.05", "99.995", "120.00"]
    return st.one_of(
        st.sampled_from([Decimal(edge) for edge in edges if Decimal(edge) <= max_value]),
        st.just(max_value),
        st.decimals(min_value=0, max_value=max_value, places=2),
        st.decimals(min_value=0, max_value=max_value, places=4),
    )


def line_items(
    *,
    account_code: str | None = None,
    quantities: st.SearchStrategy[Decimal] | None = None,
    unit_amounts: st.SearchStrategy[Decimal] | None = None,
) -> st.SearchStrategy[LineItem]:
    """Line items with non-negative amounts (discounts come from :func:`invoice_requests`)."""
    return st.builds(
        LineItem,
        description=texts(MAX_DESCRIPTION_LENGTH),
        quantity=quantities if quantities is not None else _quantities(),
        unit_amount=unit_amounts if unit_amounts is not None else _unit_amounts(),
        account_code=st.just(account_code),
    )


def _draw_discounts(
    draw: st.DrawFn, available: Decimal, currency: str, max_lines: int
) -> list[LineItem]:
    """Lines with negative unit amounts whose rounded amounts add up to at most ``available``."""
    places = currency_places(currency)
    minor = Decimal(1).scaleb(-places)
    lines: list[LineItem] = []
    while len(lines) < max_lines and available >= minor and draw(_BOOLEANS):
        if draw(_BOOLEANS) and available > minor:
            # Four places, kept half a minor unit clear so rounding cannot overshoot.
            ceiling = min(available - minor / 2, MAX_UNIT_AMOUNT)
            top = int(ceiling.scaleb(UNIT_AMOUNT_PLACES))
            unit = Decimal(draw(st.integers(1, top))).scaleb(-UNIT_AMOUNT_PLACES)
        else:
            top = int(min(available, MAX_UNIT_AMOUNT).scaleb(places))
            unit = Decimal(draw(st.integers(1, top))).scaleb(-places)
        line = LineItem(f"Discount {len(lines) + 1}", Decimal(1), -unit)
        amount = -line.line_amount(currency)
        if amount > available:
            break
        available -= amount
        lines.append(line)
    return lines


@st.composite
def _invoice_requests(
    draw: st.DrawFn,
    *,
    lines: st.SearchStrategy[list[LineItem]],
    contacts: st.SearchStrategy[Contact],
    currency: str,
    account_code: str | None,
    amount_types: st.SearchStrategy[AmountType | None],
    max_lines: int,
    allow_zero_total: bool,
) -> InvoiceRequest:
    positive = draw(lines)
    line_sum = sum((line.line_amount(currency) for line in positive), Decimal(0))
    minor = Decimal(1).scaleb(-currency_places(currency))
    if line_sum <= 0 and not allow_zero_total:
        positive[0] = LineItem(positive[0].description, Decimal(1), Decimal("10.00"))
        line_sum = sum((line.line_amount(currency) for line in positive), Decimal(0))
    available = line_sum if allow_zero_total else line_sum - minor
    items = positive + _draw_discounts(draw, available, currency, max_lines - len(positive))
    # A drawn seed orders the lines (discounts among the others); it shrinks to no shuffle.
    seed = draw(_SHUFFLE_SEEDS)
    if seed:
        random.Random(seed).shuffle(items)  # noqa: S311 - test data, not secrets
    issue = draw(_ISSUE_DATES)
    return InvoiceRequest(
        contact=draw(contacts),
        line_items=items,
        currency=currency,
        issue_date=issue,
        due_date=issue + timedelta(days=draw(_DUE_IN_DAYS)),
        reference=draw(_REFERENCES),
        amount_type=draw(amount_types),
        account_code=account_code,
    )


def invoice_requests(
    *,
    contacts: st.SearchStrategy[Contact] | None = None,
    currency: str = "NZD",
    account_code: str | None = None,
    amount_types: st.SearchStrategy[AmountType | None] | None = None,
    max_lines: int = MAX_LINE_ITEMS,
    allow_zero_total: bool = True,
    quantity_places: int = QUANTITY_PLACES,
) -> st.SearchStrategy[InvoiceRequest]:
    """Invoice requests of 1 to ``max_lines`` lines in ``currency``, every amount type.

    Quantities have at most ``quantity_places`` decimal places (a provider's declared
    ``behaviour.quantity_places``); issue dates come from :func:`issue_dates`.

    By default the amount type is also left unset (``None``: the provider's default) on some
    requests; resolve them with the provider's ``InvoiceDefaults`` before computing totals.

    Lines with negative unit amounts (discounts) appear only where the invoice's lines still add
    up to zero or more (more than zero without ``allow_zero_total``).
    """
    return _invoice_requests(
        lines=st.lists(
            line_items(quantities=_quantities(places=quantity_places)),
            min_size=1,
            max_size=max_lines,
        ),
        contacts=contacts if contacts is not None else _contacts(),
        currency=currency,
        account_code=account_code,
        amount_types=amount_types if amount_types is not None else _AMOUNT_TYPES,
        max_lines=max_lines,
        allow_zero_total=allow_zero_total,
    )


def idempotency_keys() -> st.SearchStrategy[str]:
    """Idempotency keys: 1 to 128 printable ASCII characters, UUID-based ones included."""
    return st.one_of(
        st.uuids().map(lambda value: f"invoice:{value}"),
        st.text(_KEY_ALPHABET, min_size=1, max_size=128),
        st.text(_KEY_ALPHABET, min_size=128, max_size=128),
    )


_REFERENCES = st.one_of(st.none(), texts(MAX_REFERENCE_LENGTH))
_ISSUE_DATES = issue_dates()

# Aliases: the public functions' parameters shadow these names inside them.
_account_references = account_references
_emails = emails
_contacts = contacts
_quantities = quantities
_unit_amounts = unit_amounts
