"""Transport-neutral request and response values passed between the transports and the engine."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

import attrs

__all__ = ["ConnectionDropped", "EmulatorError", "EmulatorRequest", "EmulatorResponse"]


@attrs.frozen
class EmulatorRequest:
    """One HTTP request as the engine sees it; header names are lower-case."""

    method: str
    path: str
    query_string: str = ""
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    body: bytes = attrs.field(default=b"", repr=False)

    @property
    def query(self) -> dict[str, str]:
        """The query parameters; for a repeated parameter the last value wins."""
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    def header(self, name: str) -> str | None:
        """Return a header value by (case-insensitive) name."""
        return self.headers.get(name.lower())


@attrs.frozen
class EmulatorResponse:
    """One HTTP response produced by the engine.

    ``delay`` is emulated latency the transport must apply (virtually or for real) before the
    response reaches the client.
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = attrs.field(default=b"", repr=False)
    delay: float = 0.0
    real_delay: bool = False

    def header(self, name: str) -> str | None:
        """Return the first header with this (case-insensitive) name."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def with_headers(self, **replace: str) -> EmulatorResponse:
        """Return a copy with headers replaced or added (``X_MinLimit_Remaining`` style keys)."""
        names = {
            key.replace("_", "-").lower(): (key.replace("_", "-"), v) for key, v in replace.items()
        }
        kept = tuple((k, v) for k, v in self.headers if k.lower() not in names)
        return attrs.evolve(self, headers=kept + tuple(names.values()))


class ConnectionDropped(Exception):  # noqa: N818 - it is an event, not an error of the caller
    """The emulated connection was cut without a response.

    ``applied`` tells whether the request's change was made before the cut (the case that
    makes naive retries duplicate invoices).
    """

    def __init__(self, *, applied: bool) -> None:
        super().__init__("connection dropped " + ("after" if applied else "before") + " applying")
        self.applied = applied


class EmulatorError(Exception):
    """A control-surface call was invalid (e.g. ``record_payment`` on a DRAFT invoice)."""
