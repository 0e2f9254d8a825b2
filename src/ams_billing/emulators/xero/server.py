"""The emulator as a real HTTP/1.1 server on a loopback port (stdlib ``ThreadingHTTPServer``).

Only loopback addresses are accepted. Every request gets an HTTP response: a ``Content-Length``
that is not a whole number is a 400, a body over :data:`MAX_BODY` a 413 (both plain text, the
connection closed after them), and anything unexpected a logged 500 in Xero's ``Error`` shape.
Only injected connection drops close the socket without a response. A client that went away
before its answer (``BrokenPipeError``, a reset) is not reported. Handler threads are daemons;
idle keep-alive connections time out after ``idle_timeout`` seconds so shutdown never waits on a
forgotten client. An optional background thread delivers queued webhooks every
``webhook_interval`` seconds.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from ams_billing.emulators.common.messages import (
    ConnectionDropped,
    EmulatorRequest,
    EmulatorResponse,
)

from .app import XeroEmulator, unhandled
from .context import text_response

__all__ = ["MAX_BODY", "EmulatorServer", "serve_emulator"]

MAX_BODY = 10 * 1024 * 1024
"""The largest request body served: the larger of Xero's two published limits (3.5 MB, 10 MB)."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "XeroEmulator/1.0"
    sys_version = ""
    emulator: XeroEmulator
    timeout = 10.0
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: request lines can carry ids, and test output should stay clean."""

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        raw_length = (self.headers.get("Content-Length") or "0").strip()
        valid = raw_length.isascii() and raw_length.isdigit() and len(raw_length) <= 12
        length = int(raw_length) if valid else -1
        if not 0 <= length <= MAX_BODY:
            # The body cannot be read (or is not worth reading): answer, and close the connection
            # because where the next request starts is unknown.
            self.close_connection = True
            status, reason = (400, "is not a valid length") if length < 0 else (413, "is too large")
            text = f"Content-Length {raw_length[:40]!r} {reason}"
            self._send(text_response(status, text, str(uuid.uuid4())))
            return
        request = EmulatorRequest(
            method=self.command,
            path=unquote(path),
            query_string=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        try:
            response = self.emulator.handle(request)
        except ConnectionDropped:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        except Exception:  # the engine answers its own failures; this is the last resort
            response = unhandled(request, str(uuid.uuid4()))
        self._send(response)

    def _send(self, response: EmulatorResponse) -> None:
        if response.delay > 0:
            if response.real_delay:
                time.sleep(response.delay)
            else:
                self.emulator.clock.sleep(response.delay)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve  # noqa: N815

    def __getattr__(self, name: str) -> Any:
        """Serve every other method (``TRACE``, ``OPTIONS``...) through the engine too.

        ``BaseHTTPRequestHandler`` answers a method without a ``do_<METHOD>`` with its own 501
        HTML page; the engine answers it as it answers any method a resource does not support
        (Xero's plain-text 405, or 404 for an unknown path).
        """
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when the client went away (timed out, was killed); report the rest."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class EmulatorServer:
    """A running (or startable) loopback HTTP server for one emulator."""

    def __init__(
        self,
        emulator: XeroEmulator,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        webhook_interval: float | None = None,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(f"the emulator only binds loopback addresses, not {host!r}")
        self.emulator = emulator
        self._host = host
        self._port = port
        self._webhook_interval = webhook_interval
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._webhook_thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._server is None:
            raise RuntimeError("the server is not running")
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def start(self) -> EmulatorServer:
        """Bind and start serving in a daemon thread."""
        if self._server is not None:
            return self
        handler = type("Handler", (_Handler,), {"emulator": self.emulator})
        server_class: type[_Server] = _Server
        if ":" in self._host:
            server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
        self._server = server_class((self._host, self._port), handler)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="xero-emulator-http",
            daemon=True,
        )
        self._thread.start()
        if self._webhook_interval is not None:
            self._webhook_thread = threading.Thread(
                target=self._deliver_loop, name="xero-emulator-webhooks", daemon=True
            )
            self._webhook_thread.start()
        return self

    def _deliver_loop(self) -> None:
        assert self._webhook_interval is not None
        while not self._stop.wait(self._webhook_interval):
            with contextlib.suppress(Exception):
                self.emulator.deliver_webhooks()

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in (self._thread, self._webhook_thread):
            if thread is not None:
                thread.join(timeout=5)
        self._server = self._thread = self._webhook_thread = None

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
