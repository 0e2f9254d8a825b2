"""The stores' notion of now (injectable, for tests of leases)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current instant, timezone-aware."""


def utc_now() -> datetime:
    """The current instant in UTC."""
    return datetime.now(UTC)
