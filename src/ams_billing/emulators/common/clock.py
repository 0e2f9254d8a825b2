"""An emulator's clock: virtual (advanced by hand) or scaled real time.

Every time-dependent rule of the emulator (token expiry, rate-limit windows, idempotency
retention, ``UpdatedDateUTC``, webhook retries, the daily email count) reads this clock, so tests
can move time forward without sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import UTC, datetime, timedelta

__all__ = ["DEFAULT_EPOCH", "EmulatorClock"]

#: Where a virtual clock starts unless told otherwise.
DEFAULT_EPOCH = datetime(2026, 1, 15, 9, 0, 0, tzinfo=UTC)


class EmulatorClock:
    """A thread-safe clock.

    Use :meth:`virtual` for tests (time stands still until :meth:`advance` is called) or
    :meth:`real` for servers (wall-clock time, optionally sped up by ``scale`` so that a
    one-minute rate-limit window passes in a fraction of a second).
    """

    def __init__(self, *, start: datetime, scale: float | None) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if scale is not None and scale <= 0:
            raise ValueError("scale must be positive")
        self._start = start.astimezone(UTC)
        self._scale = scale
        self._mono0 = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    @classmethod
    def virtual(cls, start: datetime = DEFAULT_EPOCH) -> EmulatorClock:
        """Return a clock that only moves when :meth:`advance` (or :meth:`sleep`) is called."""
        return cls(start=start, scale=None)

    @classmethod
    def real(cls, scale: float = 1.0, start: datetime | None = None) -> EmulatorClock:
        """Return a clock following real time, ``scale`` times faster, from ``start`` (now)."""
        return cls(start=start or datetime.now(UTC), scale=scale)

    @property
    def is_virtual(self) -> bool:
        """Whether the clock only moves by hand."""
        return self._scale is None

    @property
    def scale(self) -> float | None:
        """The speed-up factor of a real clock; ``None`` for a virtual one."""
        return self._scale

    def elapsed(self) -> float:
        """Seconds of emulated time since the clock's start."""
        with self._lock:
            base = 0.0 if self._scale is None else (time.monotonic() - self._mono0) * self._scale
            return base + self._offset

    def now(self) -> datetime:
        """Return the current emulated time (timezone-aware, UTC)."""
        return self._start + timedelta(seconds=self.elapsed())

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (works for both kinds of clock).

        Raise ``ValueError`` for a negative or non-finite move, or one past the year 9999 (which
        would leave the clock unable to tell the time).
        """
        if not math.isfinite(seconds):
            raise ValueError(f"the clock moves by a finite number of seconds, not {seconds}")
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        with self._lock:
            try:
                self._start + timedelta(seconds=self._offset + seconds)
            except OverflowError:
                raise ValueError("the clock cannot move beyond the year 9999") from None
            self._offset += seconds

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of emulated time pass: advance a virtual clock, sleep on a real one."""
        if seconds <= 0:
            return
        if self._scale is None:
            self.advance(seconds)
        else:
            time.sleep(seconds / self._scale)

    def __repr__(self) -> str:
        kind = "virtual" if self._scale is None else f"real(scale={self._scale})"
        return f"<EmulatorClock {kind} now={self.now().isoformat()}>"
