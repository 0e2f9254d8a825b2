"""The emulator's clock: the same thread-safe virtual or scaled-real clock as the Xero emulator's.

Everything time-dependent reads it: ``created`` stamps, the idempotency window (24 h), rate-limit
seconds, the search indexing delay, the 30-day event retention and webhook signature times. The
control surface (``POST /_emulator/clock/advance``) and :meth:`StripeEmulator.advance_clock`
move it forward.
"""

from __future__ import annotations

from ams_billing.emulators.common.clock import DEFAULT_EPOCH, EmulatorClock

__all__ = ["DEFAULT_EPOCH", "EmulatorClock", "unix"]


def unix(clock: EmulatorClock) -> int:
    """The clock's current time in whole Unix seconds (how Stripe writes every timestamp)."""
    return int(clock.now().timestamp())
