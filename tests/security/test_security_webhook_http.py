"""Hostile requests over real HTTP: the WSGI app (wsgiref), the ASGI app (uvicorn), Django.

Never a 5xx, 401 for anything not signed, 413 for a body past the cap without reading it,
and memory bounded by the cap rather than by what the sender sends.
"""

from __future__ import annotations

import asyncio
import io
import math
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from webhook_servers import Stack, serve_asgi_stack, serve_wsgi_stack

from ams_billing import BillingService, ConfigurationError
from ams_billing.contrib.webhooks import WebhookASGIApp, WebhookEndpoint, WebhookWSGIApp
from ams_billing.contrib.webhooks.server import serve_wsgi
from ams_billing.core.signing import sign_body
from ams_billing.providers.fake import FakeProvider

KEY = "stack-key"
PATH = "/billing/xero/webhooks/"
INTENT = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"tenantId":"fake-tenant"}'


@pytest.fixture(scope="module", params=["wsgi", "asgi"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[Stack, str]]:
    stack = Stack()
    serve = serve_wsgi_stack if request.param == "wsgi" else serve_asgi_stack
    with serve(stack) as base_url:
        yield stack, base_url + PATH
    stack.processor.close()


def signed(body: bytes) -> dict[str, str]:
    return {"x-fake-signature": sign_body(body, KEY), "content-type": "application/json"}


HOSTILE: list[tuple[str, bytes, dict[str, str | bytes]]] = [
    ("no signature", INTENT, {"content-type": "application/json"}),
    ("empty signature", INTENT, {"x-fake-signature": ""}),
    ("wrong key", INTENT, {"x-fake-signature": sign_body(INTENT, "wrong")}),
    ("truncated", INTENT, {"x-fake-signature": sign_body(INTENT, KEY)[:20]}),
    ("other body", INTENT + b" ", {"x-fake-signature": sign_body(INTENT, KEY)}),
    ("random bytes", bytes(range(256)) * 4, {"x-fake-signature": "AAAA"}),
    ("non-ascii header", INTENT, {"x-fake-signature": "é".encode()}),
    ("deep nesting unsigned", b"[" * 30_000 + b"]" * 30_000, {"x-fake-signature": "A" * 44}),
    ("xml", b"<events/>", {"content-type": "application/xml", "x-fake-signature": "x"}),
    ("form", b"a=b", {"content-type": "application/x-www-form-urlencoded"}),
]


@pytest.mark.parametrize(("name", "body", "headers"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_unsigned_or_badly_signed_requests_are_401(
    server: tuple[Stack, str], name: str, body: bytes, headers: dict[str, str | bytes]
) -> None:
    stack, url = server
    response = httpx.post(url, content=body, headers=headers, timeout=10)
    assert response.status_code == 401, name
    assert response.content == b""
    assert stack.recorder.changes == []


def test_a_duplicated_signature_header_is_401(server: tuple[Stack, str]) -> None:
    _, url = server
    good = sign_body(INTENT, KEY)
    headers = [("x-fake-signature", good), ("x-fake-signature", good)]
    response = httpx.post(url, content=INTENT, headers=headers, timeout=10)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 30_000 + b"]" * 30_000,
        b"not json at all \xff\xfe",
        b'{"events": "no"}',
        b"",
    ],
    ids=["deep", "garbage", "wrong-shape", "empty"],
)
def test_signed_garbage_is_never_a_5xx(server: tuple[Stack, str], body: bytes) -> None:
    _, url = server
    for content_type in ("application/json", "text/plain", "application/octet-stream"):
        headers = {**signed(body), "content-type": content_type}
        response = httpx.post(url, content=body, headers=headers, timeout=10)
        assert response.status_code == 200


def test_a_body_past_the_cap_is_413_without_being_read(server: tuple[Stack, str]) -> None:
    stack, url = server
    parts = urlsplit(url)
    declared = 1024**3  # 1 GiB announced; only 64 KiB ever sent
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: application/json\r\nx-fake-signature: x\r\n"
            f"Content-Length: {declared}\r\n\r\n"
        )
        sock.sendall(head.encode() + b"x" * (stack.endpoint.max_body_bytes + 1))
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413") or answer.startswith(b"HTTP/1.0 413")


def test_other_methods_and_paths_are_refused(server: tuple[Stack, str]) -> None:
    _, url = server
    assert httpx.get(url, timeout=10).status_code == 405
    assert httpx.post(url + "../other/", content=INTENT, timeout=10).status_code in (401, 404)


# -- memory: the cap bounds what is held, whatever is sent --------------------------------


def endpoint() -> WebhookEndpoint:
    return WebhookEndpoint(BillingService(FakeProvider(webhook_key=KEY)))


class EndlessInput(io.RawIOBase):
    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        chunk = b"x" * (65536 if size < 0 else min(size, 65536))
        self.read_bytes += len(chunk)
        return chunk


def test_wsgi_reads_nothing_of_a_body_past_the_cap() -> None:
    app = WebhookWSGIApp(endpoint())
    stream = EndlessInput()
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": PATH,
        "CONTENT_LENGTH": str(512 * 1024**2),
        "wsgi.input": stream,
    }
    tracemalloc.start()
    try:
        app(environ, lambda status, headers: statuses.append(status))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert statuses[0].startswith("413")
    assert stream.read_bytes == 0
    assert peak < 1024**2


def test_asgi_stops_reading_at_the_cap_and_memory_stays_bounded() -> None:
    app = WebhookASGIApp(endpoint())
    cap = app.endpoint.max_body_bytes
    chunk = b"x" * 65536
    total_chunks = (256 * 1024**2) // len(chunk)  # a 256 MiB body, streamed
    received = 0
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": chunk, "more_body": received < total_chunks}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": PATH, "headers": []}
    tracemalloc.start()
    try:
        asyncio.run(app(scope, receive, send))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sent[0]["status"] == 413
    assert received <= cap // len(chunk) + 2
    assert peak < 4 * cap  # far below the 256 MiB the sender offered


# -- slow and oversized uploads: refused at once, stalled clients cut off ----------------


def raw_request(url: str, declared: int, sent: bytes, *, head_only: bool = False) -> socket.socket:
    """Open a connection, announce ``declared`` bytes of body and send only ``sent``."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    if head_only:  # stall in the middle of the headers
        sock.sendall(f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nx-fake-".encode())
        return sock
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\nx-fake-signature: x\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    sock.sendall(head.encode() + sent)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by the socket's
    10-second timeout, which fails the test with TimeoutError)."""
    received = b""
    for _ in range(1000):
        chunk = sock.recv(65536)
        if not chunk:
            return received
        received += chunk
    raise AssertionError("the server kept sending")


def test_a_declared_length_past_the_cap_is_413_at_once(server: tuple[Stack, str]) -> None:
    # 50 MB announced, 1 KiB sent, then silence: the answer must not wait for the rest.
    _, url = server
    with raw_request(url, 50 * 1024**2, b"x" * 1024) as sock:
        answer = sock.recv(4096)
    assert answer.split(b" ", 2)[1] == b"413"


@pytest.mark.parametrize("length", ["12abc", "-5"])
def test_a_malformed_declared_length_is_refused_by_the_asgi_app(length: str) -> None:
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        raise AssertionError("the body must not be read")

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": PATH,
             "headers": [(b"content-length", length.encode())]}  # fmt: skip
    asyncio.run(WebhookASGIApp(endpoint())(scope, receive, send))
    assert sent[0]["status"] in (411, 413)


QUICK = 0.3  # seconds: the read timeout of the servers below


@pytest.fixture(params=["wsgi", "asgi"])
def quick_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    stack = Stack()
    serve = serve_wsgi_stack if request.param == "wsgi" else serve_asgi_stack
    with serve(stack, read_timeout=QUICK) as base_url:
        yield request.param, base_url + PATH
    stack.processor.close()


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        threading.Event().wait(0.02)
    return condition()


def test_a_client_stalling_in_its_body_is_answered_408_and_disconnected(
    quick_server: tuple[str, str],
) -> None:
    _, url = quick_server
    with raw_request(url, 1000, b'{"events": [') as sock:
        answer = read_until_closed(sock)
    assert answer.split(b" ", 2)[1] == b"408"


def test_stalled_clients_do_not_keep_server_threads(quick_server: tuple[str, str]) -> None:
    kind, url = quick_server
    baseline = threading.active_count()
    sockets = [raw_request(url, 1000, b'{"events": [') for _ in range(10)]
    sockets += [raw_request(url, 0, b"", head_only=True) for _ in range(10)]
    try:
        for sock in sockets[:10]:
            assert read_until_closed(sock).split(b" ", 2)[1] == b"408"
        if kind == "wsgi":  # uvicorn's header timeout is uvicorn's (see SECURITY.md)
            for sock in sockets[10:]:
                assert read_until_closed(sock) == b""
    finally:
        for sock in sockets:
            sock.close()
    assert wait_for(lambda: threading.active_count() <= baseline), threading.active_count()


def test_the_read_timeout_must_be_finite_and_positive() -> None:
    for bad in (0, -1, math.inf, math.nan):
        with pytest.raises(ConfigurationError, match="read_timeout"):
            WebhookASGIApp(endpoint(), read_timeout=bad)
        with (
            pytest.raises(ConfigurationError, match="read_timeout"),
            serve_wsgi(WebhookWSGIApp(endpoint()), read_timeout=bad),
        ):
            pass
