"""The in-process transport of the Xero emulator, shared by every emulator.

It lives in :mod:`ams_billing.emulators.common.transport`; this module re-exports it under its
old path.
"""

from __future__ import annotations

from ams_billing.emulators.common.transport import EmulatorTransport

__all__ = ["EmulatorTransport"]
