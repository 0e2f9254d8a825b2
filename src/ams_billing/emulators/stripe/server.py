"""The engine as a real HTTP/1.1 server on a loopback port (stdlib ``ThreadingHTTPServer``).

Only loopback addresses are accepted. Every request gets an HTTP response (a bad
``Content-Length`` is a 400, a body over :data:`MAX_BODY` a 413, both in Stripe's error shape);
only injected cuts close the socket without one. An optional background thread delivers pending
webhooks every ``webhook_interval`` seconds.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from ams_billing.emulators.common.messages import (
    ConnectionDropped,
    EmulatorRequest,
    EmulatorResponse,
)

from .app import StripeEngine, error_answer
from .errors import StripeError

__all__ = ["MAX_BODY", "StripeServer", "is_loopback"]

MAX_BODY = 1024 * 1024


def is_loopback(host: str) -> bool:
    """Whether ``host`` names a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "StripeEmulator/1.0"
    sys_version = ""
    engine: StripeEngine
    timeout = 10.0
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: request lines can carry ids."""

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        raw_length = (self.headers.get("Content-Length") or "0").strip()
        valid = raw_length.isascii() and raw_length.isdigit() and len(raw_length) <= 12
        length = int(raw_length) if valid else -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            status = 400 if length < 0 else 413
            error = StripeError(status, f"Content-Length {raw_length[:40]!r} is not acceptable")
            self._send(error_answer(error, "req_unreadable"))
            return
        request = EmulatorRequest(
            method=self.command,
            path=unquote(path),
            query_string=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        try:
            response = self.engine.handle(request)
        except ConnectionDropped:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(response)

    def _send(self, response: EmulatorResponse) -> None:
        if response.delay > 0:
            if response.real_delay:
                time.sleep(response.delay)
            else:
                self.engine.clock.sleep(response.delay)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve  # noqa: N815

    def __getattr__(self, name: str) -> Any:
        """Serve every other method through the engine too (it answers 404 for them)."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when the client went away; report the rest."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class StripeServer:
    """A loopback HTTP server for one engine."""

    def __init__(
        self,
        engine: StripeEngine,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        webhook_interval: float | None = None,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"the emulator only binds loopback addresses, not {host!r}")
        self.engine = engine
        self._host = host
        self._port = port
        self._webhook_interval = webhook_interval
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

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

    def start(self) -> StripeServer:
        """Bind and serve in a daemon thread."""
        if self._server is not None:
            return self
        handler = type("Handler", (_Handler,), {"engine": self.engine})
        server_class: type[_Server] = _Server
        if ":" in self._host:
            server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
        self._server = server_class((self._host, self._port), handler)
        self._stop.clear()
        serving = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-emulator-http",
            daemon=True,
        )
        serving.start()
        self._threads = [serving]
        if self._webhook_interval is not None:
            delivering = threading.Thread(
                target=self._deliver_loop, name="stripe-emulator-webhooks", daemon=True
            )
            delivering.start()
            self._threads.append(delivering)
        return self

    def _deliver_loop(self) -> None:
        assert self._webhook_interval is not None
        while not self._stop.wait(self._webhook_interval):
            with contextlib.suppress(Exception):
                self.engine.deliver_webhooks()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server = None
        self._threads = []
