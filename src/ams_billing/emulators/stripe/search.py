"""Customer search (§1.6): Stripe's query language over an index that lags behind writes.

The index holds, per customer, versions of its searchable fields, each visible from
``changed + search_indexing_delay`` on the emulator's clock; a search sees the newest visible
version of each customer, so a customer just created (or just changed) is missing (or stale)
until the delay passes, as in Stripe, where search is eventually consistent.

Query: clauses ``field:"value"`` joined by spaces or ``AND`` (or all by ``OR``), ``-`` negates;
fields ``email``, ``name``, ``phone``, ``metadata["key"]`` (single quotes too). Values are
matched exactly. Anything else is a 400 naming ``query``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

import attrs

from .errors import StripeError
from .state import Account, Customer

__all__ = ["Clause", "index_entry", "parse_query", "search_customers", "visible_fields"]

_CLAUSE = re.compile(
    r"""\s*(?P<neg>-)?(?P<field>email|name|phone|metadata\[(?P<q>["'])(?P<key>[^"'\[\]]{1,40})(?P=q)\])
        \s*:\s*(?P<vq>["'])(?P<value>[^"']*)(?P=vq)\s*""",
    re.VERBOSE,
)


@attrs.frozen
class Clause:
    """One ``field:value`` test."""

    field: str
    value: str
    negated: bool = False

    def matches(self, fields: Mapping[str, Any]) -> bool:
        """Whether a customer's indexed fields satisfy the clause."""
        if self.field.startswith("metadata."):
            actual = fields.get("metadata", {}).get(self.field[len("metadata.") :])
        else:
            actual = fields.get(self.field)
        return bool((actual == self.value) != self.negated)


def _bad_query(reason: str) -> StripeError:
    return StripeError(400, f"Invalid query: {reason}", param="query", replayable=False)


def parse_query(query: str) -> tuple[list[Clause], str]:
    """The clauses of ``query`` and how they join (``AND`` or ``OR``)."""
    if not query.strip():
        raise _bad_query("the query is empty")
    clauses: list[Clause] = []
    joins: set[str] = set()
    position = 0
    while position < len(query):
        match = _CLAUSE.match(query, position)
        if match is None:
            raise _bad_query(f"cannot read the query at character {position}")
        field = match.group("field")
        if field.startswith("metadata"):
            field = "metadata." + match.group("key")
        clauses.append(Clause(field, match.group("value"), bool(match.group("neg"))))
        position = match.end()
        if position >= len(query):
            break
        join = re.match(r"(AND|OR)\s+", query[position:])
        if join is not None:
            joins.add(join.group(1))
            position += join.end()
        else:
            joins.add("AND")
    if len(joins) > 1:
        raise _bad_query("AND and OR cannot be combined in one query")
    if len(clauses) > 10:
        raise _bad_query("at most 10 clauses")
    return clauses, joins.pop() if joins else "AND"


def index_entry(customer: Customer) -> dict[str, Any] | None:
    """The searchable fields of ``customer`` (``None`` once deleted)."""
    if customer.deleted:
        return None
    return {
        "email": customer.email,
        "name": customer.name,
        "phone": customer.phone,
        "metadata": dict(customer.metadata),
    }


def visible_fields(account: Account, now: float) -> dict[str, dict[str, Any] | None]:
    """Each indexed customer's newest version visible at ``now``."""
    seen: dict[str, dict[str, Any] | None] = {}
    for visible_at, customer_id, fields in account.search_index:
        if visible_at <= now:
            seen[customer_id] = fields
    return seen


def search_customers(
    account: Account, query: str, now: float, *, limit: int, page: str | None
) -> tuple[list[Customer], str | None]:
    """The customers matching ``query`` as the index sees them at ``now``, newest first."""
    clauses, join = parse_query(query)
    offset = 0
    if page:
        try:
            offset = int(base64.urlsafe_b64decode(page.encode()).decode().removeprefix("o:"))
        except (ValueError, UnicodeDecodeError):
            raise StripeError(
                400, "Invalid page: not a page this search returned", param="page"
            ) from None
    visible = visible_fields(account, now)
    matches: list[Customer] = []
    for customer in reversed(account.customers.values()):
        fields = visible.get(customer.id)
        if fields is None:
            continue
        tests = [clause.matches(fields) for clause in clauses]
        if all(tests) if join == "AND" else any(tests):
            matches.append(customer)
    chosen = matches[offset : offset + limit]
    more = offset + limit < len(matches)
    token = base64.urlsafe_b64encode(f"o:{offset + limit}".encode()).decode() if more else None
    return chosen, token
