"""The webhook endpoint as an ASGI application, for any ASGI server or framework."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ams_billing.contrib.webhooks.request import (
    DEFAULT_READ_TIMEOUT,
    WebhookEndpoint,
    check_read_timeout,
)

__all__ = ["WebhookASGIApp"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class WebhookASGIApp:
    """Answers webhook deliveries: 200 or 401 with an empty body and no cookies.

    A declared ``Content-Length`` over the endpoint's cap is refused with 413 before any of the
    body is read (a malformed one with 411); a body without one is read in chunks and refused
    as soon as it passes the cap. Each wait for the next chunk is bounded by ``read_timeout``
    seconds: a client that stalls is answered 408. Refusals carry ``Connection: close``, so the
    server drops the connection rather than wait for the rest. Verification is pure
    computation, so it runs on the event loop.
    """

    def __init__(
        self, endpoint: WebhookEndpoint, *, read_timeout: float = DEFAULT_READ_TIMEOUT
    ) -> None:
        self.endpoint = endpoint
        self.read_timeout = check_read_timeout(read_timeout)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one connection scope (HTTP only; lifespan is acknowledged)."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        status = await self._status(scope, receive)
        headers = [(b"content-length", b"0"), (b"cache-control", b"no-store")]
        if status == 405:
            headers.append((b"allow", b"POST"))
        if status in (408, 411, 413):  # the rest of the body was not read: do not wait for it
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _status(self, scope: Scope, receive: Receive) -> int:
        declared = _declared_length(scope)
        if declared is None:
            return 411
        if declared > self.endpoint.max_body_bytes:
            return 413
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            try:
                message = await asyncio.wait_for(receive(), self.read_timeout)
            except TimeoutError:
                return 408
            if message["type"] == "http.disconnect":
                return 400
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.endpoint.max_body_bytes:
                return 413
            chunks.append(chunk)
            more = message.get("more_body", False)
        # A header sent twice is joined with a comma, as WSGI servers do (a doubled signature
        # then fails verification whichever copy comes last).
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers", []):
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return self.endpoint.answer(scope["method"], scope["path"], b"".join(chunks), headers)


def _declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` header as a number (0 when absent); ``None`` when malformed."""
    values = [
        value for name, value in scope.get("headers", []) if name.lower() == b"content-length"
    ]
    if not values:
        return 0
    try:
        lengths = {int(value) for value in values}
    except ValueError:
        return None
    if len(lengths) != 1 or min(lengths) < 0:
        return None
    return lengths.pop()


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
