"""The emulator's clock, shared by every emulator.

It lives in :mod:`ams_billing.emulators.common.clock`; this module re-exports it under its old
path.
"""

from __future__ import annotations

from ams_billing.emulators.common.clock import DEFAULT_EPOCH, EmulatorClock

__all__ = ["DEFAULT_EPOCH", "EmulatorClock"]
