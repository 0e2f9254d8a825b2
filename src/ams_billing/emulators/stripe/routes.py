"""Which ``/v1`` paths and methods the emulator serves, and the handler of each.

Anything else is Stripe's 404 ``Unrecognized request URL (METHOD: /path)``, wrong method on a
known path included (§1.4).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from .context import Answer, Context
from .customers import handle_customers
from .endpoints import handle_endpoints
from .events import handle_events
from .invoiceitems import handle_invoiceitems
from .invoices import handle_invoices

__all__ = ["Handler", "Route", "match_route"]

Handler = Callable[[Context, str, list[str]], Answer]

_INVOICE_ACTIONS = frozenset({"finalize", "send", "pay", "void", "mark_uncollectible"})
_EXPANDABLE = frozenset({"invoices", "invoiceitems"})


@attrs.frozen
class Route:
    """A matched API route."""

    resource: str
    endpoint: str
    """The named operation, ``"POST /v1/invoices/{id}/finalize"`` (rate limits, call log)."""
    handler: Handler
    parts: list[str]
    is_list: bool = False
    search: bool = False

    @property
    def expandable(self) -> frozenset[str]:
        """The ``expand`` paths this route accepts."""
        if self.resource not in _EXPANDABLE:
            return frozenset()
        return frozenset({"data.customer"}) if self.is_list else frozenset({"customer"})


_TABLE: dict[str, tuple[Handler, dict[int, frozenset[str]]]] = {
    "customers": (
        handle_customers,
        {1: frozenset({"GET", "POST"}), 2: frozenset({"GET", "POST", "DELETE"})},
    ),
    "invoiceitems": (
        handle_invoiceitems,
        {1: frozenset({"GET", "POST"}), 2: frozenset({"GET", "DELETE"})},
    ),
    "invoices": (
        handle_invoices,
        {1: frozenset({"GET", "POST"}), 2: frozenset({"GET", "POST", "DELETE"})},
    ),
    "webhook_endpoints": (
        handle_endpoints,
        {1: frozenset({"GET", "POST"}), 2: frozenset({"GET", "POST", "DELETE"})},
    ),
    "events": (handle_events, {1: frozenset({"GET"}), 2: frozenset({"GET"})}),
}


def match_route(method: str, path: str) -> Route | None:
    """The route for ``method path`` (``path`` starting ``/v1/``), or ``None``."""
    if not path.startswith("/v1/"):
        return None
    parts = path[len("/v1/") :].split("/")
    if not parts or any(not p for p in parts) or parts[0] not in _TABLE:
        return None
    resource = parts[0]
    handler, allowed = _TABLE[resource]
    base = f"/v1/{resource}"
    if len(parts) == 3 and resource == "invoices":
        if parts[2] in _INVOICE_ACTIONS and method == "POST":
            return Route(resource, f"POST {base}/{{id}}/{parts[2]}", handler, parts)
        if parts[2] == "lines" and method == "GET":
            return Route(resource, f"GET {base}/{{id}}/lines", handler, parts, is_list=True)
        return None
    if len(parts) == 2 and resource == "customers" and parts[1] == "search":
        if method != "GET":
            return None
        return Route(resource, f"GET {base}/search", handler, parts, is_list=True, search=True)
    methods = allowed.get(len(parts))
    if methods is None or method not in methods:
        return None
    endpoint = f"{method} {base}" if len(parts) == 1 else f"{method} {base}/{{id}}"
    return Route(resource, endpoint, handler, parts, is_list=len(parts) == 1 and method == "GET")
