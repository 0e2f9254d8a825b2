""":class:`StripeEmulator`: the engine plus its own loopback server, for tests and tools."""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType

from .app import StripeEngine
from .clock import EmulatorClock
from .config import StripeEmulatorConfig
from .server import StripeServer
from .webhooks import Poster

__all__ = ["StripeEmulator"]


class StripeEmulator(StripeEngine):
    """A Stripe test-mode account served on a free loopback port.

    ::

        with StripeEmulator() as emu:  # or emu = StripeEmulator().start() ... emu.stop()
            client = stripe.StripeClient(emu.secret_key, base_addresses={"api": emu.base_url})

    The clock is virtual and starts at the current time (whole seconds), so webhook signatures
    are fresh for receivers that check them against their own clock, and dates relative to today
    behave as in Stripe. It only moves with :meth:`advance_clock`.
    """

    def __init__(
        self,
        config: StripeEmulatorConfig | None = None,
        *,
        clock: EmulatorClock | None = None,
        poster: Poster | None = None,
    ) -> None:
        start = datetime.now(UTC).replace(microsecond=0)
        super().__init__(config, clock=clock or EmulatorClock.virtual(start), poster=poster)
        self._server: StripeServer | None = None

    @property
    def secret_key(self) -> str:
        """The account's secret test key."""
        return self.config.secret_key

    def start(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        webhook_interval: float | None = None,
    ) -> StripeEmulator:
        """Serve on ``host:port`` (a free port by default); hosted invoice URLs point here."""
        if self._server is None:
            self._server = StripeServer(self, host, port, webhook_interval=webhook_interval)
            self._server.start()
            self.hosted_base = self._server.base_url
        return self

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: what ``STRIPE_API_BASE`` and the SDK's ``api`` take."""
        if self._server is None:
            raise RuntimeError("the emulator is not serving: call start() first")
        return self._server.base_url

    def stop(self) -> None:
        """Stop serving (the state stays; ``start`` serves it again on a new port)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> StripeEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self._server.base_url if self._server is not None else "stopped"
        return f"<StripeEmulator {where} clock={self.clock!r}>"
