"""Reading Xero's JSON answers for the checks; an unreadable one is a provider failure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ams_billing.core.errors import ProviderUnavailableError
from ams_billing.providers.xero import wire

__all__ = ["first", "items", "unreadable"]


def unreadable(what: str) -> ProviderUnavailableError:
    """The error for an answer that is not what Xero documents."""
    return ProviderUnavailableError(f"Xero's answer to {what} could not be read")


def items(response: httpx.Response, envelope: str) -> list[Mapping[str, Any]]:
    """The objects of a ``{"<envelope>": [...]}`` answer."""
    try:
        data = wire.loads(response.content)
    except ValueError:
        raise unreadable(response.request.url.path) from None
    found = data.get(envelope) if isinstance(data, dict) else None
    if not isinstance(found, list) or not all(isinstance(i, dict) for i in found):
        raise unreadable(response.request.url.path)
    return found


def first(response: httpx.Response, envelope: str) -> Mapping[str, Any]:
    """The first object of a ``{"<envelope>": [...]}`` answer (``{}`` when there is none)."""
    found = items(response, envelope)
    return found[0] if found else {}
