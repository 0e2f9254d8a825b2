"""An emulator's engine as a real HTTP/1.1 server on loopback (stdlib ``ThreadingHTTPServer``).

Only loopback addresses are accepted. Every request gets an HTTP response: a ``Content-Length``
that is not a whole number, or a body over the handler's ``max_body``, gets the emulator's own
answer with the connection closed after it. Only injected connection drops close the socket
without a response. A client that went away before its answer (``BrokenPipeError``, a reset) is
not reported. Handler threads are daemons, so shutdown never waits on a forgotten client. An
optional background thread delivers queued webhooks every ``webhook_interval`` seconds.

Each emulator subclasses :class:`EngineHandler` (its error shapes) and :class:`LoopbackServer`
(its names).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar
from urllib.parse import unquote

from .clock import EmulatorClock
from .messages import ConnectionDropped, EmulatorRequest, EmulatorResponse

__all__ = ["EngineHandler", "LoopbackServer", "ServedEngine", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` names a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ServedEngine(Protocol):
    """What the server needs of an emulator: a clock, a request handler, webhook delivery."""

    @property
    def clock(self) -> EmulatorClock:
        """The emulator's clock (virtual delays move it)."""
        ...

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        """Answer one request, or raise :class:`ConnectionDropped` for a cut connection."""
        ...

    def deliver_webhooks(self) -> object:
        """Deliver the webhooks that are due."""
        ...


E = TypeVar("E", bound=ServedEngine)


class EngineHandler(BaseHTTPRequestHandler):
    """Turn each HTTP request into an :class:`EmulatorRequest` for ``engine`` and send its answer.

    Subclasses set ``server_version`` and ``max_body`` and say how an unreadable body is
    answered (:meth:`answer_unreadable`) and, optionally, an engine failure
    (:meth:`answer_unhandled`).
    """

    protocol_version = "HTTP/1.1"
    sys_version = ""
    engine: ServedEngine
    max_body: ClassVar[int]
    timeout = 10.0
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: request lines can carry ids, and test output should stay clean."""

    def answer_unreadable(self, status: int, raw_length: str) -> EmulatorResponse:
        """The answer to a body that cannot be read: 400 (bad length) or 413 (too large)."""
        raise NotImplementedError

    def answer_unhandled(self, request: EmulatorRequest) -> EmulatorResponse | None:
        """The answer when the engine raised; ``None`` lets the failure propagate."""
        return None

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        raw_length = (self.headers.get("Content-Length") or "0").strip()
        valid = raw_length.isascii() and raw_length.isdigit() and len(raw_length) <= 12
        length = int(raw_length) if valid else -1
        if not 0 <= length <= self.max_body:
            # The body cannot be read (or is not worth reading): answer, and close the connection
            # because where the next request starts is unknown.
            self.close_connection = True
            self._send(self.answer_unreadable(400 if length < 0 else 413, raw_length))
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
        except Exception:  # the engine answers its own failures; this is the last resort
            last_resort = self.answer_unhandled(request)
            if last_resort is None:
                raise
            response = last_resort
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
        """Serve every other method (``TRACE``, ``OPTIONS``...) through the engine too.

        ``BaseHTTPRequestHandler`` answers a method without a ``do_<METHOD>`` with its own 501
        HTML page; the engine answers it as it answers any method a resource does not support.
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


class LoopbackServer(Generic[E]):
    """A running (or startable) loopback HTTP server for one engine.

    Subclasses set ``handler_class`` and ``thread_prefix`` (``"xero-emulator"`` names the
    threads ``xero-emulator-http`` and ``xero-emulator-webhooks``).
    """

    handler_class: ClassVar[type[EngineHandler]]
    thread_prefix: ClassVar[str]

    def __init__(
        self,
        engine: E,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        webhook_interval: float | None = None,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"the emulator only binds loopback addresses, not {host!r}")
        self._engine = engine
        self._host = host
        self._port = port
        self._webhook_interval = webhook_interval
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
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

    def start(self) -> Self:
        """Bind and start serving in a daemon thread."""
        if self._server is not None:
            return self
        handler = type("Handler", (self.handler_class,), {"engine": self._engine})
        server_class: type[_Server] = _Server
        if ":" in self._host:
            server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
        self._server = server_class((self._host, self._port), handler)
        self._stop.clear()
        serving = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.thread_prefix}-http",
            daemon=True,
        )
        serving.start()
        self._threads = [serving]
        if self._webhook_interval is not None:
            delivering = threading.Thread(
                target=self._deliver_loop, name=f"{self.thread_prefix}-webhooks", daemon=True
            )
            delivering.start()
            self._threads.append(delivering)
        return self

    def _deliver_loop(self) -> None:
        assert self._webhook_interval is not None
        while not self._stop.wait(self._webhook_interval):
            with contextlib.suppress(Exception):
                self._engine.deliver_webhooks()

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server = None
        self._threads = []
