"""The one rule of which way a status may move (core/status_order.py)."""

from __future__ import annotations

import pytest

from ams_billing import InvoiceStatus
from ams_billing.core.status_order import is_forward, status_rank

S = InvoiceStatus
FINAL = (S.PAID, S.VOID, S.UNCOLLECTIBLE, S.DELETED)


@pytest.mark.parametrize("status", list(InvoiceStatus))
def test_staying_put_is_forward(status: InvoiceStatus) -> None:
    assert is_forward(status, status)


@pytest.mark.parametrize(
    ("old", "new"),
    [(S.DRAFT, S.AWAITING_APPROVAL), (S.AWAITING_APPROVAL, S.OPEN), (S.DRAFT, S.OPEN)]
    + [(S.OPEN, final) for final in FINAL]
    + [(S.DRAFT, S.DELETED)],
)
def test_moving_up_the_order_is_forward(old: InvoiceStatus, new: InvoiceStatus) -> None:
    assert is_forward(old, new)
    assert not is_forward(new, old)


@pytest.mark.parametrize("old", FINAL)
@pytest.mark.parametrize("new", list(InvoiceStatus))
def test_a_final_status_is_left_only_for_a_later_payment(
    old: InvoiceStatus, new: InvoiceStatus
) -> None:
    written_off_then_paid = (old, new) == (S.UNCOLLECTIBLE, S.PAID)
    assert is_forward(old, new) is (new is old or written_off_then_paid)


def test_the_ranks_order_draft_awaiting_approval_open_then_the_final_ones() -> None:
    ranks = [status_rank(s) for s in (S.DRAFT, S.AWAITING_APPROVAL, S.OPEN, S.PAID)]
    assert ranks == sorted(set(ranks))
    assert {status_rank(s) for s in FINAL} == {status_rank(S.PAID)}
