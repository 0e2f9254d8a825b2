"""Stripe's v1 request encoding (§1.3): ``application/x-www-form-urlencoded`` with brackets.

``metadata[k]=v`` nests, ``expand[]=a`` and ``expand[0]=a`` both make lists, ``lines[0][x]=1``
makes lists of dicts; every leaf stays a string (``""`` means "unset"). GET and DELETE carry
their parameters in the query string. :class:`Params` reads typed values out of the result and
raises Stripe's parameter errors, naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from .errors import StripeError, missing, param_invalid, unknown

__all__ = ["MAX_DEPTH", "Params", "as_list", "in_ranges", "parse_form", "parse_pairs"]

MAX_DEPTH = 8
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
_INTEGER = re.compile(r"^-?\d{1,18}$")


def _invalid_key(key: str) -> StripeError:
    shown = key[:80]
    return StripeError(400, f"Invalid parameter name: {shown!r}", param=shown, replayable=False)


def as_list(value: Any) -> list[Any] | None:
    """A parsed array parameter as a list; ``None`` if it is not an array.

    ``x[]=a`` and ``x[0]=a`` both arrive as index-keyed dicts (keys stay strings, so
    ``metadata[1]=v`` remains a hash).
    """
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and all(k.isdigit() for k in value):
        return [value[k] for k in sorted(value, key=int)]
    return None


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``a[b][0]=v`` pairs into dicts and lists (raise :class:`StripeError` if malformed)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise _invalid_key(key)
        path: list[str] = [match.group(1), *_PART.findall(match.group(2))]
        if len(path) > MAX_DEPTH:
            raise _invalid_key(key)
        node: dict[str, Any] = root
        for depth, part in enumerate(path):
            slot = str(len(node)) if depth > 0 and part == "" else part
            last = depth == len(path) - 1
            if last:
                if isinstance(node.get(slot), dict):
                    raise _invalid_key(key)
                node[slot] = value
            else:
                child = node.setdefault(slot, {})
                if not isinstance(child, dict):
                    raise _invalid_key(key)
                node = child
    return root


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """Split a query string or form body into pairs (``+`` is a space, blanks kept)."""
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=2000)
    except ValueError as error:
        raise StripeError(400, f"Invalid request body: {error}", replayable=False) from None


class Params:
    """Typed access to one request's parameters; every error names the parameter."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = dict(data)

    def allow(self, names: Iterable[str]) -> None:
        """Refuse a parameter outside ``names`` (``expand`` is always allowed)."""
        allowed = {*names, "expand"}
        for name in self.data:
            if name not in allowed:
                raise unknown(name)

    def has(self, name: str) -> bool:
        """Whether the parameter was sent."""
        return name in self.data

    def raw(self, name: str) -> Any:
        """The parameter as parsed (a string, dict or list), or ``None``."""
        return self.data.get(name)

    def string(
        self, name: str, *, required: bool = False, max_length: int = 5000, nullable: bool = True
    ) -> str | None:
        """A string parameter; ``""`` reads as ``None`` (unset) when ``nullable``."""
        value = self.data.get(name)
        if value is None:
            if required:
                raise missing(name)
            return None
        if not isinstance(value, str):
            raise param_invalid(name, f"Invalid string: {name} must be a string")
        if value == "":
            if required or not nullable:
                raise param_invalid(
                    name,
                    f"You passed an empty string for '{name}'. We assume empty values are an "
                    "attempt to unset a parameter; however '"
                    f"{name}' cannot be unset.",
                    code="parameter_invalid_empty",
                )
            return None
        if len(value) > max_length:
            raise param_invalid(
                name, f"Invalid string: {name} must be at most {max_length} characters long"
            )
        return value

    def integer(
        self, name: str, *, required: bool = False, minimum: int | None = None
    ) -> int | None:
        """An integer parameter (digits only)."""
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return None
        if not isinstance(value, str) or not _INTEGER.match(value):
            shown = value if isinstance(value, str) else "an object"
            raise param_invalid(
                name, f"Invalid integer: {str(shown)[:40]}", code="parameter_invalid_integer"
            )
        number = int(value)
        if minimum is not None and number < minimum:
            raise param_invalid(
                name, f"Invalid integer: {name} must be greater than or equal to {minimum}"
            )
        return number

    def decimal(self, name: str) -> Decimal | None:
        """A decimal-string parameter (``unit_amount_decimal``, ``quantity_decimal``)."""
        value = self.data.get(name)
        if value is None or value == "":
            return None
        try:
            if not isinstance(value, str) or len(value) > 40:
                raise InvalidOperation
            number = Decimal(value)
        except InvalidOperation:
            raise param_invalid(name, f"Invalid decimal: {str(value)[:40]}") from None
        if not number.is_finite():
            raise param_invalid(name, f"Invalid decimal: {value}")
        return number

    def boolean(self, name: str) -> bool | None:
        """A ``true``/``false`` parameter."""
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if value not in ("true", "false"):
            raise param_invalid(name, f"Invalid boolean: {str(value)[:40]}")
        return bool(value == "true")

    def choice(self, name: str, choices: Iterable[str]) -> str | None:
        """A string parameter that must be one of ``choices``."""
        value = self.string(name)
        options = tuple(choices)
        if value is not None and value not in options:
            raise param_invalid(
                name, f"Invalid {name}: must be one of {', '.join(options)}", code=None
            )
        return value

    def metadata(self, name: str = "metadata") -> dict[str, str | None] | None:
        """Metadata changes (§1.8): a key set to ``""`` removes it; ``metadata=`` clears all.

        Returns ``None`` when not sent, ``{}`` for "clear everything" is signalled by the
        special key ``""``. Keys ≤ 40 characters, values ≤ 500, at most 50 keys.
        """
        value = self.data.get(name)
        if value is None:
            return None
        if value == "":
            return {"": None}
        if not isinstance(value, dict):
            raise param_invalid(name, f"Invalid object: {name} must be a hash of keys to values")
        changes: dict[str, str | None] = {}
        for key, item in value.items():
            if not isinstance(item, str):
                raise param_invalid(f"{name}[{key}]", f"Invalid string: {name}[{key}]")
            if len(key) > 40:
                raise param_invalid(
                    f"{name}[{key[:40]}]", "Metadata keys can have up to 40 characters."
                )
            if len(item) > 500:
                raise param_invalid(
                    f"{name}[{key}]", "Metadata values can have up to 500 characters."
                )
            changes[key] = item or None
        if len(changes) > 50:
            raise param_invalid(name, "Metadata can have up to 50 keys.")
        return changes

    def expand(self) -> list[str]:
        """The ``expand`` paths (``expand[]=x`` or ``expand[0]=x``)."""
        value = self.data.get("expand")
        if value is None or value == "":
            return []
        items = [value] if isinstance(value, str) else as_list(value)
        if items is None or not all(isinstance(v, str) for v in items):
            raise param_invalid("expand", "Invalid array: expand must be a list of strings")
        return items

    def ranges(self, name: str) -> dict[str, int]:
        """A range filter ``created[gt]=…`` (or ``created=…`` for equality)."""
        value = self.data.get(name)
        if value is None or value == "":
            return {}
        if isinstance(value, str):
            return {"eq": self.integer(name) or 0}
        if not isinstance(value, dict):
            raise param_invalid(name, f"Invalid {name}: an integer or a range hash")
        bounds: dict[str, int] = {}
        for op, item in value.items():
            if op not in ("gt", "gte", "lt", "lte"):
                raise unknown(f"{name}[{op}]")
            number = Params({"v": item}).integer("v")
            if number is None:
                raise param_invalid(f"{name}[{op}]", f"Invalid integer: {name}[{op}]")
            bounds[op] = number
        return bounds


def in_ranges(value: int, bounds: Mapping[str, int]) -> bool:
    """Whether ``value`` satisfies a :meth:`Params.ranges` filter."""
    checks = {
        "eq": value == bounds.get("eq", value),
        "gt": value > bounds.get("gt", value - 1),
        "gte": value >= bounds.get("gte", value),
        "lt": value < bounds.get("lt", value + 1),
        "lte": value <= bounds.get("lte", value),
    }
    return all(checks.values())
