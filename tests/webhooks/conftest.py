"""Fixtures for the webhook app tests: the same stack behind WSGI and ASGI servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from webhook_servers import Stack, serve_asgi_stack, serve_wsgi_stack


@pytest.fixture(params=["wsgi", "asgi"])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    stack = Stack()
    serve = serve_wsgi_stack if request.param == "wsgi" else serve_asgi_stack
    with serve(stack) as base_url:
        stack.url = base_url + "/billing/xero/webhooks/"
        yield stack
    stack.processor.close()
