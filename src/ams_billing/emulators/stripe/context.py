"""What a resource handler gets: the account, clock, ids, parameters, and its events.

The events a handler's change emits are created only if the request succeeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from .clock import EmulatorClock, unix
from .config import StripeEmulatorConfig
from .errors import StripeError
from .form import Params
from .ids import IdFactory
from .state import Account

__all__ = ["Answer", "Context", "PendingEvent", "not_found"]

Answer = tuple[int, dict[str, Any]]
"""A handler's answer: HTTP status and JSON body."""


@attrs.frozen
class PendingEvent:
    """An event a handler's change emits: its type, the object's snapshot, old values."""

    type: str
    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None = None


@attrs.define
class Context:
    """One API request as a handler sees it."""

    account: Account
    config: StripeEmulatorConfig
    clock: EmulatorClock
    ids: IdFactory
    params: Params
    request_id: str
    idempotency_key: str | None = None
    hosted_base: str = "https://emulator.invalid"
    events: list[PendingEvent] = attrs.field(factory=list)
    index: Callable[[str], None] = attrs.field(default=lambda customer_id: None)
    """Called with a customer id whose searchable fields changed (the search index)."""

    @property
    def now(self) -> int:
        """The emulator clock in Unix seconds."""
        return unix(self.clock)

    def emit(
        self,
        type_: str,
        object_: dict[str, Any],
        previous_attributes: dict[str, Any] | None = None,
    ) -> None:
        """Queue an event with a snapshot of the object as it is now."""
        self.events.append(PendingEvent(type_, object_, previous_attributes))


def not_found(kind: str, id_: str, param: str = "id") -> StripeError:
    """Stripe's 404 for an unknown id (§1.4)."""
    return StripeError(404, f"No such {kind}: '{id_[:100]}'", code="resource_missing", param=param)


def changed(before: dict[str, Any], after: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """``previous_attributes``: the old values of the ``keys`` whose value changed."""
    return {k: before.get(k) for k in keys if before.get(k) != after.get(k)}
