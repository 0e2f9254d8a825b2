"""JSON with exact decimals: each ``Decimal`` written as its digits, never through a float.

The standard library's encoder only writes ``Decimal`` by way of ``float``, which turns
``10.10`` into ``10.1`` at best and ``0.1 + 0.2`` errors at worst; money sent to an
accounting system must keep every digit it was given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["dumps"]


def dumps(value: Any, *, allow_float: bool = False) -> bytes:
    """Serialise ``value`` to compact UTF-8 JSON, writing each ``Decimal`` exactly.

    Floats are refused unless ``allow_float``: money must not pass through one.
    Non-finite decimals are refused; negative zero is written as zero.
    """
    out: list[str] = []
    _encode(value, out, allow_float)
    return "".join(out).encode("utf-8")


def _encode(value: Any, out: list[str], allow_float: bool) -> None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as JSON")
        out.append(format(abs(value) if value.is_zero() else value, "f"))
    elif isinstance(value, float):
        if not allow_float:
            raise TypeError("a float is not written where money may travel: use Decimal")
        out.append(json.dumps(value))
    elif value is None or isinstance(value, bool | int | str):
        out.append(json.dumps(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(json.dumps(str(key)))
            out.append(":")
            _encode(item, out, allow_float)
        out.append("}")
    elif isinstance(value, Sequence):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out, allow_float)
        out.append("]")
    else:
        raise TypeError(f"cannot write a {type(value).__name__} as JSON")
