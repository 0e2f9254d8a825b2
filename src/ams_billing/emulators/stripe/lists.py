"""List pagination (§1.5): newest first, ``limit`` 1 to 100 (default 10), cursors, ``has_more``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .context import Answer, not_found
from .errors import StripeError
from .form import Params
from .shapes import list_json

__all__ = ["LIST_PARAMS", "page"]

T = TypeVar("T")

LIST_PARAMS = ("limit", "starting_after", "ending_before")
"""The pagination parameters every list endpoint takes."""


def page(  # noqa: PLR0917 - one call shape for every list endpoint
    params: Params,
    url: str,
    newest_first: Sequence[T],
    id_of: Callable[[T], str],
    render: Callable[[T], dict[str, Any]],
    kind: str,
) -> Answer:
    """One page of ``newest_first`` after (or before) the cursor, rendered."""
    limit = params.integer("limit", minimum=1)
    if limit is None:
        limit = 10
    if limit > 100:
        raise StripeError(
            400,
            "Invalid limit: must be between 1 and 100",
            param="limit",
            replayable=False,
        )
    after = params.string("starting_after")
    before = params.string("ending_before")
    if after and before:
        raise StripeError(
            400,
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="ending_before",
            replayable=False,
        )
    ids = [id_of(obj) for obj in newest_first]
    items = list(newest_first)
    if after:
        if after not in ids:
            raise not_found(kind, after, "starting_after")
        start = ids.index(after) + 1
        chosen = items[start : start + limit]
        has_more = start + limit < len(items)
    elif before:
        if before not in ids:
            raise not_found(kind, before, "ending_before")
        end = ids.index(before)
        chosen = items[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        chosen = items[:limit]
        has_more = len(items) > limit
    return 200, list_json(url, [render(obj) for obj in chosen], has_more)
