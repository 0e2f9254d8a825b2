"""The engine as a real HTTP/1.1 server on a loopback port (stdlib ``ThreadingHTTPServer``).

Only loopback addresses are accepted. Every request gets an HTTP response (a bad
``Content-Length`` is a 400, a body over :data:`MAX_BODY` a 413, both in Stripe's error shape);
only injected cuts close the socket without one. An optional background thread delivers pending
webhooks every ``webhook_interval`` seconds. The serving itself is
:mod:`ams_billing.emulators.common.server`.
"""

from __future__ import annotations

from ams_billing.emulators.common.messages import EmulatorResponse
from ams_billing.emulators.common.server import EngineHandler, LoopbackServer, is_loopback

from .app import StripeEngine, error_answer
from .errors import StripeError

__all__ = ["MAX_BODY", "StripeServer", "is_loopback"]

MAX_BODY = 1024 * 1024


class _Handler(EngineHandler):
    server_version = "StripeEmulator/1.0"
    max_body = MAX_BODY

    def answer_unreadable(self, status: int, raw_length: str) -> EmulatorResponse:
        """Stripe's error shape for a body that cannot be read."""
        error = StripeError(status, f"Content-Length {raw_length[:40]!r} is not acceptable")
        return error_answer(error, "req_unreadable")


class StripeServer(LoopbackServer[StripeEngine]):
    """A loopback HTTP server for one engine."""

    handler_class = _Handler
    thread_prefix = "stripe-emulator"

    @property
    def engine(self) -> StripeEngine:
        """The engine served."""
        return self._engine

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None
