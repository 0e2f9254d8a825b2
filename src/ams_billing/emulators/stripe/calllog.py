"""The call log: one record per API request (control-surface calls are not logged)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import attrs

from ams_billing.emulators.common.calllog import RecordLog

__all__ = ["CallLog", "CallRecord", "CallSummary"]


@attrs.frozen
class CallRecord:
    """One answered (or deliberately cut) request."""

    sequence: int
    at: datetime
    method: str
    path: str
    endpoint: str
    status: int | None
    request_id: str
    idempotency_key: str | None = None
    limited: str | None = None
    fault: str | None = None
    replayed: bool = False
    dropped: bool = False
    held: bool = False


@attrs.frozen
class CallSummary:
    """Counts over the call log."""

    total: int
    by_endpoint: dict[str, int]
    by_status: dict[int, int]
    limited: int
    faults: dict[str, int]
    replays: int
    dropped: int


class CallLog(RecordLog[CallRecord]):
    """Thread-safe list of :class:`CallRecord`."""

    def __init__(self) -> None:
        super().__init__(CallRecord)

    def summary(self) -> CallSummary:
        """Counts per endpoint, status and fault."""
        records = self.records
        return CallSummary(
            total=len(records),
            by_endpoint=dict(Counter(r.endpoint for r in records)),
            by_status=dict(Counter(r.status for r in records if r.status is not None)),
            limited=sum(r.limited is not None for r in records),
            faults=dict(Counter(r.fault for r in records if r.fault)),
            replays=sum(r.replayed for r in records),
            dropped=sum(r.dropped for r in records),
        )
