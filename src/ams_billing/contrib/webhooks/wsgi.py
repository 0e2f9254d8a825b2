"""The webhook endpoint as a WSGI application, for any WSGI server or framework."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ams_billing.contrib.webhooks.request import WebhookEndpoint

__all__ = ["WebhookWSGIApp"]

_REASONS = {200: "OK", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
            408: "Request Timeout", 411: "Length Required", 413: "Content Too Large"}  # fmt: skip
StartResponse = Callable[..., Any]


class WebhookWSGIApp:
    """Answers webhook deliveries: 200 or 401 with an empty body and no cookies.

    Bodies over the endpoint's cap are refused with 413 before being read. A body that cannot
    be read (the server's read timeout ran out, the client went away) is answered 408.
    """

    def __init__(self, endpoint: WebhookEndpoint) -> None:
        self.endpoint = endpoint

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Handle one request."""
        status = self._status(environ)
        headers = [("Content-Length", "0"), ("Cache-Control", "no-store")]
        if status == 405:
            headers.append(("Allow", "POST"))
        start_response(f"{status} {_REASONS.get(status, '')}".strip(), headers)
        return [b""]

    def _status(self, environ: dict[str, Any]) -> int:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 411
        if length > self.endpoint.max_body_bytes or length < 0:
            return 413
        try:
            body = environ["wsgi.input"].read(length) if length else b""
        except OSError:  # TimeoutError from the server's read timeout, or a reset connection
            return 408
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        return self.endpoint.answer(
            environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/"), body, headers
        )
