"""The one rule of which way an invoice's status may move: never backwards.

Webhook events arrive late and out of order, and a delivery that carries the invoice's state
(a snapshot) can be older than what was already seen. Whatever their timestamps say, a tracked
invoice never moves back down this order::

    DRAFT < AWAITING_APPROVAL < OPEN < {PAID, VOID, UNCOLLECTIBLE, DELETED}

The final statuses are terminal: once there, an invoice stays, except that a written-off
(UNCOLLECTIBLE) invoice may still be paid. The stores
(:class:`~ams_billing.core.tracking.InMemoryInvoiceStateStore`, the SQL and Django stores)
apply this rule through :func:`ams_billing.core.tracking.InvoiceTracker`'s own comparison, so
it holds across processes.
"""

from __future__ import annotations

from ams_billing.core.models import InvoiceStatus

__all__ = ["is_forward", "status_rank"]

_RANK = {
    InvoiceStatus.DRAFT: 0,
    InvoiceStatus.AWAITING_APPROVAL: 1,
    InvoiceStatus.OPEN: 2,
    InvoiceStatus.PAID: 3,
    InvoiceStatus.VOID: 3,
    InvoiceStatus.UNCOLLECTIBLE: 3,
    InvoiceStatus.DELETED: 3,
}

_LATER_FINAL: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    InvoiceStatus.UNCOLLECTIBLE: frozenset({InvoiceStatus.PAID}),
}
"""Moves allowed out of a terminal status: a written-off invoice paid later (Stripe lets an
uncollectible invoice be paid)."""


def status_rank(status: InvoiceStatus) -> int:
    """The status's place in the order: higher is further along."""
    return _RANK[status]


def is_forward(old: InvoiceStatus, new: InvoiceStatus) -> bool:
    """Whether an invoice tracked at ``old`` may be recorded at ``new``.

    Staying put is forward (an amount paid can still change), moving up the order is, and
    leaving a terminal status is not, except for the moves :data:`_LATER_FINAL` lists.
    """
    if new is old:
        return True
    if _RANK[old] == max(_RANK.values()):
        return new in _LATER_FINAL.get(old, frozenset())
    return _RANK[new] > _RANK[old]
