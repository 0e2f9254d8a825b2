"""Query-string features shared by the GET endpoints: ``where``, paging, ``If-Modified-Since``.

The ``where`` dialect covers what a billing integration uses: clauses joined by ``AND``/``&&``
(``OR``/``||`` too), each ``Field==value``, ``Field=value`` or ``Field!=value`` (strings compared
case-insensitively, as Xero's optimised filters are), ``Field.Contains("x")``,
``.StartsWith``/``.EndsWith``, values as ``"text"``, ``guid("...")``, numbers, ``true``/``false``
or ``null``. Dotted fields (``Contact.ContactID``) walk the response JSON. Anything else is a
400 ``QueryParseException`` (its exact Xero wording is [U]).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

__all__ = ["QueryError", "page_params", "paginate", "parse_where"]

T = TypeVar("T")
Predicate = Callable[[Mapping[str, Any]], bool]

_CLAUSE = re.compile(
    r"""^\s*(?P<field>[A-Za-z][\w.]*)\s*
    (?:(?P<op>==|!=|=|>=|<=|>|<)\s*(?P<value>.+?)
      |\.(?P<method>Contains|StartsWith|EndsWith)\(\s*(?P<arg>"[^"]*")\s*\))\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_SPLIT_OR = re.compile(r"\s+OR\s+|\|\|", re.IGNORECASE)
_SPLIT_AND = re.compile(r"\s+AND\s+|&&", re.IGNORECASE)


class QueryError(ValueError):
    """A query parameter the emulator (like Xero) cannot parse."""


def _literal(text: str) -> Any:
    text = text.strip()
    guid = re.fullmatch(r'(?i)guid\(\s*"([^"]*)"\s*\)', text)
    if guid:
        return guid.group(1).lower()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        number = Decimal(text)
    except ArithmeticError as exc:
        raise QueryError(f"cannot parse value {text!r}") from exc
    if not number.is_finite():  # NaN cannot be ordered: comparing with it raises
        raise QueryError(f"cannot parse value {text!r}")
    return number


def _lookup(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        match = next((k for k in value if k.lower() == part.lower()), None)
        value = value.get(match) if match is not None else None
    return value


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def _clause(text: str) -> Predicate:
    match = _CLAUSE.match(text)
    if not match:
        raise QueryError(f"cannot parse where clause {text!r}")
    field = match.group("field")
    if match.group("method"):
        method = match.group("method").lower()
        needle = str(_literal(match.group("arg"))).casefold()

        def text_test(record: Mapping[str, Any]) -> bool:
            value = _lookup(record, field)
            if not isinstance(value, str):
                return False
            hay = value.casefold()
            if method == "contains":
                return needle in hay
            return hay.startswith(needle) if method == "startswith" else hay.endswith(needle)

        return text_test
    op = match.group("op")
    wanted = _norm(_literal(match.group("value")))

    def compare(record: Mapping[str, Any]) -> bool:
        value = _norm(_lookup(record, field))
        if op in ("==", "="):
            return bool(value == wanted)
        if op == "!=":
            return bool(value != wanted)
        if value is None or wanted is None:
            return False
        try:
            if op == ">":
                return bool(value > wanted)
            if op == ">=":
                return bool(value >= wanted)
            if op == "<":
                return bool(value < wanted)
            return bool(value <= wanted)
        except TypeError:
            return False

    return compare


def parse_where(expression: str) -> Predicate:
    """Compile a ``where`` expression into a predicate over a record's response JSON."""
    alternatives = []
    for alternative in _SPLIT_OR.split(expression):
        clauses = [_clause(c) for c in _SPLIT_AND.split(alternative) if c.strip()]
        if not clauses:
            raise QueryError("empty where clause")
        alternatives.append(clauses)

    def predicate(record: Mapping[str, Any]) -> bool:
        return any(all(c(record) for c in clauses) for clauses in alternatives)

    return predicate


def page_params(
    query: Mapping[str, str], default_size: int, max_size: int
) -> tuple[int, int] | None:
    """Return ``(page, pageSize)`` when paging was asked for, else ``None``.

    ``pageSize`` above the maximum is clamped (third-party notes; [U]); below 1 it is the default.
    """
    if "page" not in query:
        return None
    try:
        page = max(1, int(query["page"]))
        size = int(query.get("pageSize", default_size) or default_size)
    except ValueError as exc:
        raise QueryError("page and pageSize must be integers") from exc
    if size < 1:
        size = default_size
    return page, min(size, max_size)


def paginate(items: Sequence[T], page: int, size: int) -> tuple[list[T], dict[str, int]]:
    """Slice one page and build Xero's ``pagination`` object."""
    count = len(items)
    start = (page - 1) * size
    pagination = {
        "page": page,
        "pageSize": size,
        "pageCount": math.ceil(count / size) if count else 0,
        "itemCount": count,
    }
    return list(items[start : start + size]), pagination
