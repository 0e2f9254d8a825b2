"""The thread-safe call log every emulator keeps: records numbered in arrival order.

Each emulator defines its own record type (the fields its API has) and summary; this base only
numbers, stores, copies and clears the records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["RecordLog"]

R = TypeVar("R")


class RecordLog(Generic[R]):
    """Thread-safe list of records built by ``record_type`` (``sequence`` counts from 1)."""

    def __init__(self, record_type: Callable[..., R]) -> None:
        self._record_type = record_type
        self._records: list[R] = []
        self._lock = threading.Lock()

    def add(self, **fields: object) -> R:
        """Append a record (``sequence`` is assigned here)."""
        with self._lock:
            record = self._record_type(sequence=len(self._records) + 1, **fields)
            self._records.append(record)
            return record

    @property
    def records(self) -> list[R]:
        """A copy of all records, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()
