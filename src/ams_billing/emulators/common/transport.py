"""The in-process transport: an ``httpx.BaseTransport`` that calls an emulator's engine directly.

Injected connection drops surface as the exceptions a real network produces:
``httpx.RemoteProtocolError`` when the cut happens before the change is applied, and
``httpx.ReadError`` after it. A virtual delay longer than the request's read timeout advances
the clock by the timeout and raises ``httpx.ReadTimeout``.
"""

from __future__ import annotations

import time
from typing import Protocol
from urllib.parse import unquote

import httpx

from .clock import EmulatorClock
from .messages import ConnectionDropped, EmulatorRequest, EmulatorResponse

__all__ = ["EmulatorTransport", "Engine"]


class Engine(Protocol):
    """What the transports need of an emulator: its clock and a request handler."""

    @property
    def clock(self) -> EmulatorClock:
        """The emulator's clock (virtual delays and read timeouts move it)."""
        ...

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        """Answer one request, or raise :class:`ConnectionDropped` for a cut connection."""
        ...


class EmulatorTransport(httpx.BaseTransport):
    """Serve requests from an emulator's engine, any :class:`Engine`."""

    def __init__(self, emulator: Engine) -> None:
        self._emulator = emulator

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
            response = self._emulator.handle(em_request)
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
                    self._emulator.clock.advance(timeout)
                    raise httpx.ReadTimeout("The read operation timed out", request=request)
                self._emulator.clock.sleep(response.delay)
        return httpx.Response(
            status_code=response.status,
            headers=list(response.headers),
            content=response.body,
            request=request,
        )
