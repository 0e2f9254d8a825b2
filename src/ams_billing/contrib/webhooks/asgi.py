"""The webhook endpoint as an ASGI application, for any ASGI server or framework."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ams_billing.contrib.webhooks.request import WebhookEndpoint

__all__ = ["WebhookASGIApp"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class WebhookASGIApp:
    """Answers webhook deliveries: 200 or 401 with an empty body and no cookies.

    The body is read in chunks and refused with 413 as soon as it passes the endpoint's cap.
    Verification is pure computation, so it runs on the event loop.
    """

    def __init__(self, endpoint: WebhookEndpoint) -> None:
        self.endpoint = endpoint

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
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _status(self, scope: Scope, receive: Receive) -> int:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
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


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
