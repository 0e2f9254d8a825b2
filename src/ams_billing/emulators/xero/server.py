"""The emulator as a real HTTP/1.1 server on a loopback port (stdlib ``ThreadingHTTPServer``).

Only loopback addresses are accepted. Every request gets an HTTP response: a ``Content-Length``
that is not a whole number is a 400, a body over :data:`MAX_BODY` a 413 (both plain text, the
connection closed after them), and anything unexpected a logged 500 in Xero's ``Error`` shape.
Only injected connection drops close the socket without a response. A client that went away
before its answer (``BrokenPipeError``, a reset) is not reported. Handler threads are daemons;
idle keep-alive connections time out after ``idle_timeout`` seconds so shutdown never waits on a
forgotten client. An optional background thread delivers queued webhooks every
``webhook_interval`` seconds. The serving itself is :mod:`ams_billing.emulators.common.server`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from types import TracebackType

from ams_billing.emulators.common.messages import EmulatorRequest, EmulatorResponse
from ams_billing.emulators.common.server import EngineHandler, LoopbackServer

from .app import XeroEmulator, unhandled
from .context import text_response

__all__ = ["MAX_BODY", "EmulatorServer", "serve_emulator"]

MAX_BODY = 10 * 1024 * 1024
"""The largest request body served: the larger of Xero's two published limits (3.5 MB, 10 MB)."""


class _Handler(EngineHandler):
    server_version = "XeroEmulator/1.0"
    max_body = MAX_BODY

    def answer_unreadable(self, status: int, raw_length: str) -> EmulatorResponse:
        """Xero's plain-text 400 or 413."""
        reason = "is not a valid length" if status == 400 else "is too large"
        text = f"Content-Length {raw_length[:40]!r} {reason}"
        return text_response(status, text, str(uuid.uuid4()))

    def answer_unhandled(self, request: EmulatorRequest) -> EmulatorResponse:
        """A logged 500 in Xero's ``Error`` shape."""
        return unhandled(request, str(uuid.uuid4()))


class EmulatorServer(LoopbackServer[XeroEmulator]):
    """A running (or startable) loopback HTTP server for one emulator."""

    handler_class = _Handler
    thread_prefix = "xero-emulator"

    @property
    def emulator(self) -> XeroEmulator:
        """The emulator served."""
        return self._engine

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"<EmulatorServer {where}>"


@contextlib.contextmanager
def serve_emulator(
    emulator: XeroEmulator,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    webhook_interval: float | None = None,
) -> Iterator[EmulatorServer]:
    """Run ``emulator`` on a loopback port for the duration of a ``with`` block."""
    server = EmulatorServer(emulator, host, port, webhook_interval=webhook_interval)
    with server:
        yield server
