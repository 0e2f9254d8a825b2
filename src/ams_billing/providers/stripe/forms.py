"""Stripe's v1 wire format for parameters: form encoding with brackets (the reference, 1.3).

``{"metadata": {"k": "v"}, "expand": ["customer"], "lines": [{"amount": 5}]}`` is sent as
``metadata[k]=v&expand[0]=customer&lines[0][amount]=5``: nested mappings by key, sequences by
index (what stripe-python 16.1.0 puts on the wire). Booleans are ``true``/``false``, integers
digits, :class:`~decimal.Decimal` plain text (never exponent notation, never a float), ``None``
is left out (it does not unset: an empty string does). Order is kept, so equal parameters give
equal bytes, which the idempotency keys rely on (:mod:`~ams_billing.providers.stripe.keys`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from urllib.parse import quote

__all__ = ["Params", "encode", "flatten"]

Params = Mapping[str, object]
"""Request parameters as nested mappings and sequences of scalars."""

_SAFE = "[]"  # brackets go unescaped, as stripe-python sends them


def flatten(params: Params, prefix: str = "") -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of ``params``, nested names bracketed, ``None`` left out."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        _add(pairs, name, value)
    return pairs


def _add(pairs: list[tuple[str, str]], name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        pairs.extend(flatten(value, name))
    elif isinstance(value, (str, bytes)):
        pairs.append((name, value.decode() if isinstance(value, bytes) else value))
    elif isinstance(value, Sequence):
        for index, item in enumerate(value):
            _add(pairs, f"{name}[{index}]", item)
    else:
        pairs.append((name, _scalar(value)))


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite amount")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("a float is not an exact amount: pass a Decimal or an int")
    raise TypeError(f"cannot send a {type(value).__name__} as a Stripe parameter")


def encode(params: Params) -> str:
    """``params`` form-encoded (UTF-8, percent-escaped, brackets kept), e.g. for a POST body."""
    return "&".join(
        f"{quote(name, safe=_SAFE)}={quote(value, safe='')}" for name, value in flatten(params)
    )
