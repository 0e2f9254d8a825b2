"""The in-process transport of the Stripe emulator: the shared one, under its Stripe name.

Injected cuts surface as a real network's exceptions: ``httpx.RemoteProtocolError`` before the
change, ``httpx.ReadError`` after it. A virtual delay longer than the read timeout advances the
clock by the timeout and raises ``httpx.ReadTimeout``. See
:mod:`ams_billing.emulators.common.transport`.
"""

from __future__ import annotations

from ams_billing.emulators.common.transport import EmulatorTransport

__all__ = ["StripeTransport"]


class StripeTransport(EmulatorTransport):
    """Serve httpx requests from a :class:`~ams_billing.emulators.stripe.app.StripeEngine`."""
