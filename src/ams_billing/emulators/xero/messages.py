"""The engine's request and response values, shared by every emulator.

They live in :mod:`ams_billing.emulators.common.messages`; this module re-exports them under
their old path.
"""

from __future__ import annotations

from ams_billing.emulators.common.messages import (
    ConnectionDropped,
    EmulatorError,
    EmulatorRequest,
    EmulatorResponse,
)

__all__ = ["ConnectionDropped", "EmulatorError", "EmulatorRequest", "EmulatorResponse"]
