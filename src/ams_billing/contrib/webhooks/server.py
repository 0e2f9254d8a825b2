"""A small threaded WSGI server on loopback, for the demo, the CLI and tests.

Production deployments mount the webhook app in their own server (gunicorn, uWSGI, Django);
this one exists so that the demo and local development receive real HTTP deliveries.

Every read from a connection waits at most ``read_timeout`` seconds (default
:data:`~ams_billing.contrib.webhooks.request.DEFAULT_READ_TIMEOUT`): a client that stalls in
its headers is disconnected, one that stalls in its body is answered 408 and disconnected, and
its thread ends either way. The timeout bounds each wait, not the whole request; the body cap
bounds how long a client trickling bytes can keep a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ams_billing.contrib.webhooks.request import DEFAULT_READ_TIMEOUT, check_read_timeout

__all__ = ["serve_wsgi"]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a burst of concurrent deliveries beyond it
    # is reset by the kernel (benchmarks/bench_webhooks.py: 34 of 50 concurrent refused).
    request_queue_size = 1024


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serve_wsgi(
    app: Callable[..., Any],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> Iterator[str]:
    """Serve ``app`` on ``host:port`` (0: a free port) in a thread; yield its base URL.

    ``read_timeout`` is how many seconds a connection may stay silent mid-request before it is
    closed (see the module docs).
    """
    # StreamRequestHandler applies ``timeout`` to the connection's socket.
    handler = type("_TimedHandler", (_QuietHandler,), {"timeout": check_read_timeout(read_timeout)})
    server = make_server(host, port, app, server_class=_ThreadingWSGIServer, handler_class=handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
