"""Helpers for the CLI tests: the emulator on loopback, env files, invoking the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
from click.testing import CliRunner, Result

from ams_billing import BillingService, InvoiceChange, hookimpl
from ams_billing.cli import CliContext, main
from ams_billing.contrib.webhooks.request import WebhookEndpoint
from ams_billing.contrib.webhooks.server import serve_wsgi
from ams_billing.contrib.webhooks.wsgi import WebhookWSGIApp
from ams_billing.core.models import WebhookDelivery
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    EmulatorServer,
    XeroEmulator,
    provider_environment,
    serve_emulator,
)
from ams_billing.emulators.xero.messages import EmulatorRequest, EmulatorResponse
from ams_billing.providers.fake import FakeProvider
from ams_billing.providers.xero import XeroProvider, XeroSettings

WIDE = {"COLUMNS": "250", "NO_COLOR": "1"}
WEBHOOK_PATH = "/billing/xero/webhooks/"


class RecordingEmulator(XeroEmulator):
    """An emulator that remembers every access token it issued (to look for in output)."""

    def __init__(self, config: EmulatorConfig) -> None:
        super().__init__(config, clock=EmulatorClock.real())
        self.issued: list[str] = []

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        response = super().handle(request)
        if request.path.rstrip("/").endswith("/connect/token") and response.status == 200:
            self.issued.append(json.loads(response.body)["access_token"])
        return response


@attrs.define
class Running:
    """An emulator served on loopback and the variables that point the provider at it."""

    emulator: RecordingEmulator
    server: EmulatorServer
    env: dict[str, str]

    def settings(self, **changes: Any) -> XeroSettings:
        env = {**self.env, **changes}
        return XeroSettings.from_env(env)

    def provider(self, **changes: Any) -> XeroProvider:
        return XeroProvider(self.settings(**changes))


@contextmanager
def running_emulator(config: EmulatorConfig | None = None) -> Iterator[Running]:
    """Serve an emulator (without rate limits) on a free loopback port."""
    config = config or EmulatorConfig(rate_limits=False)
    emulator = RecordingEmulator(config)
    with serve_emulator(emulator) as server:
        # No AMS_BILLING_DATABASE_URL: the commands use the default database, in this test's
        # own folder (tests/conftest.py), as an operator's would.
        env = provider_environment(config, server.base_url, database_url=None)
        yield Running(emulator, server, env)


def write_env(path: Path, env: Mapping[str, str | None]) -> Path:
    """Write ``env`` as an env file (``None`` values left out)."""
    lines = [f"{name}={value}" for name, value in env.items() if value is not None]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def invoke(
    args: list[str], *, obj: CliContext | None = None, env: Mapping[str, str | None] | None = None
) -> Result:
    """Run ``ams-billing args`` in-process with a wide, colourless console."""
    return CliRunner().invoke(main, args, obj=obj, env={**WIDE, **(env or {})})


def json_of(result: Result) -> dict[str, Any]:
    """The JSON document a ``--json`` command printed on stdout."""
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@contextmanager
def webhook_receiver(settings: XeroSettings) -> Iterator[tuple[str, list[WebhookDelivery]]]:
    """The real WSGI webhook app, with a Xero provider service, on a loopback port."""
    received: list[WebhookDelivery] = []
    provider = XeroProvider(settings)
    try:
        endpoint = WebhookEndpoint(BillingService(provider), on_delivery=received.append)
        with serve_wsgi(WebhookWSGIApp(endpoint)) as base_url:
            yield base_url + WEBHOOK_PATH, received
    finally:
        provider.close()


def always_ok_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """A careless endpoint: 200 to everything, signature or not."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]


def chatty_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """An endpoint that answers 200 with a body and a session cookie."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    body = b"thanks!"
    start_response(
        "200 OK", [("Content-Length", str(len(body))), ("Set-Cookie", "session=abc; Path=/")]
    )
    return [body]


class RecordingListener:
    """A listener the CLI can load with ``--listener cli_helpers:RecordingListener``."""

    heard: list[InvoiceChange] = []  # noqa: RUF012 - shared on purpose: the CLI instantiates it

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        RecordingListener.heard.append(change)


class OwnFake(FakeProvider):
    """A provider selected by class path only (no entry point)."""
