"""Stop signals handled for the length of a block, then put back as they were.

SIGTERM (how a script or a service manager stops a job) and SIGHUP (the terminal went away)
end a process on the spot by default, before any ``with`` block can clean up. Commands that
hold temporary folders or servers handle them for as long as they run: the demo turns them
into ``KeyboardInterrupt``, the emulator notes them and stops its loop. A signal that was
ignored when the block started (``nohup`` ignores SIGHUP) stays ignored, and outside the main
thread (where Python lets no handler be set) nothing changes.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import Any

__all__ = ["handling_signals"]


@contextlib.contextmanager
def handling_signals(
    signals: Iterable[signal.Signals], handler: Callable[[int, FrameType | None], Any]
) -> Iterator[None]:
    """Within the block, ``handler`` answers each of ``signals`` not ignored when it began."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Any] = {}
    try:
        for stop_signal in signals:
            if signal.getsignal(stop_signal) is not signal.SIG_IGN:
                previous[stop_signal] = signal.signal(stop_signal, handler)
        yield
    finally:
        for stop_signal, earlier in previous.items():
            # None: a handler set outside Python, which cannot be put back; the default can.
            signal.signal(stop_signal, signal.SIG_DFL if earlier is None else earlier)
