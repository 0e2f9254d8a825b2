"""The in-process transport: an ``httpx.BaseTransport`` that calls the engine directly.

Injected cuts surface as a real network's exceptions: ``httpx.RemoteProtocolError`` before the
change, ``httpx.ReadError`` after it. A virtual delay longer than the read timeout advances the
clock by the timeout and raises ``httpx.ReadTimeout``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import unquote

import httpx

from ams_billing.emulators.xero.messages import ConnectionDropped, EmulatorRequest

if TYPE_CHECKING:
    from .app import StripeEngine

__all__ = ["StripeTransport"]


class StripeTransport(httpx.BaseTransport):
    """Serve httpx requests from a :class:`~ams_billing.emulators.stripe.app.StripeEngine`."""

    def __init__(self, engine: StripeEngine) -> None:
        self._engine = engine

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one httpx request in-process."""
        body = request.read()
        raw_path, _, query = request.url.raw_path.decode("ascii").partition("?")
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in request.headers.raw
        }
        em_request = EmulatorRequest(
            method=request.method,
            path=unquote(raw_path),
            query_string=query,
            headers=headers,
            body=body,
        )
        try:
            response = self._engine.handle(em_request)
        except ConnectionDropped as exc:
            if exc.applied:
                raise httpx.ReadError("Connection reset by peer", request=request) from exc
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from exc
        if response.delay > 0:
            if response.real_delay:
                time.sleep(response.delay)
            else:
                timeout = request.extensions.get("timeout", {}).get("read")
                if timeout is not None and response.delay > timeout:
                    self._engine.clock.advance(timeout)
                    raise httpx.ReadTimeout("The read operation timed out", request=request)
                self._engine.clock.sleep(response.delay)
        return httpx.Response(
            status_code=response.status,
            headers=list(response.headers),
            content=response.body,
            request=request,
        )
