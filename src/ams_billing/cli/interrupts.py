"""SIGTERM and SIGHUP interrupt a command as Ctrl-C does, so its ``with`` blocks clean up.

Python turns SIGINT into ``KeyboardInterrupt``, and the ``with`` blocks it passes through
close what they opened: servers, services, temporary folders. SIGTERM (how a script or a
service manager stops a job) and SIGHUP (the terminal went away) would instead end the
process on the spot and leave those folders behind. Inside :func:`signals_interrupt`, they
raise ``KeyboardInterrupt`` as well. A signal that was ignored when the command started
(``nohup`` ignores SIGHUP) stays ignored; outside the main thread nothing changes.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

from ams_billing.core.signals import handling_signals

__all__ = ["signals_interrupt"]

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise ``KeyboardInterrupt`` (main thread only)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    with handling_signals(_SIGNALS, interrupt):
        yield
