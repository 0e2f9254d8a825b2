"""Helpers for the Stripe emulator's tests: Stripe's fixtures, the shape check, a receiver."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

FIXTURES_NAME = "fixtures3.json"


def fixtures_dir() -> Path | None:
    """Where Stripe's MIT-licensed ``fixtures3.json`` is (``../shared``), if anywhere."""
    override = os.environ.get("AMS_BILLING_STRIPE_FIXTURES_DIR")
    if override:
        path = Path(override)
        return path if (path / FIXTURES_NAME).is_file() else None
    for parent in Path(__file__).resolve().parents:
        for shared in (parent / "shared", parent.parent / "shared"):
            candidate = shared / "reference" / "stripe-openapi"
            if (candidate / FIXTURES_NAME).is_file():
                return candidate
    return None


@cache
def fixture(name: str) -> dict[str, Any]:
    """One resource of ``fixtures3.json``; skips the test when the file is absent."""
    directory = fixtures_dir()
    if directory is None:
        pytest.skip(
            "Stripe's fixtures3.json is not available (looked for ../shared/reference/"
            "stripe-openapi; set AMS_BILLING_STRIPE_FIXTURES_DIR to point at it)"
        )
    with (directory / FIXTURES_NAME).open(encoding="utf-8") as handle:
        resources = json.load(handle)["resources"]
    return dict(resources[name])


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def shape_problems(
    ours: Any, theirs: Any, where: str = "", extra: frozenset[str] = frozenset()
) -> list[str]:
    """How ``ours`` differs in keys or JSON types from the fixture ``theirs``.

    ``null`` on either side matches any type (Stripe's fields are nullable, and the fixtures'
    values are placeholders); objects must have the same keys at every level, except the
    dotted paths in ``extra`` that ours may add; arrays compare their first elements;
    ``metadata`` maps hold strings.
    """
    if ours is None or theirs is None:
        return []
    if _kind(ours) != _kind(theirs):
        return [f"{where or '.'}: {_kind(ours)} here, {_kind(theirs)} in the fixture"]
    problems: list[str] = []
    if where.endswith(".metadata"):  # a free-form map of strings, not a schema
        return [f"{where}.{k}: not a string" for k, v in ours.items() if not isinstance(v, str)]
    if isinstance(ours, dict):
        for key in sorted(set(theirs) - set(ours)):
            problems.append(f"{where}.{key}: missing")
        for key in sorted(set(ours) - set(theirs)):
            if f"{where}.{key}".lstrip(".") not in extra:
                problems.append(f"{where}.{key}: not in the fixture")
        for key in sorted(set(ours) & set(theirs)):
            problems += shape_problems(ours[key], theirs[key], f"{where}.{key}", extra)
    elif isinstance(ours, list) and ours and theirs:
        problems += shape_problems(ours[0], theirs[0], f"{where}[0]", extra)
    return problems


class Received:
    """What a webhook receiver got: raw bodies and headers, in order."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self.status = 200
        self.lock = threading.Lock()


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, Received]]:
    """A loopback HTTP server that records every POST and answers ``received.status``."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with received.lock:
                received.deliveries.append((body, {k.lower(): v for k, v in self.headers.items()}))
            self.send_response(received.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/stripe/webhook", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
