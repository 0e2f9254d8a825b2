"""``ams-billing emulator``: serve the Xero emulator for local AMS development.

The same server as ``python -m ams_billing.emulators.xero``: it prints the variables
to export (the emulator's own fake credentials, never anything from the environment), then
serves on loopback until Ctrl-C or SIGTERM. The variables include an
``AMS_BILLING_DATABASE_URL`` of the emulator's own, a throwaway SQLite file deleted when it
stops: billing state kept in the default database would remember ids from earlier emulators,
whose books are gone.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import click

from ams_billing.cli.output import json_option
from ams_billing.emulators.xero import (
    BROAD_SCOPES,
    GRANULAR_SCOPES,
    EmulatorClock,
    EmulatorConfig,
    EmulatorServer,
    XeroEmulator,
    provider_environment,
    throwaway_database,
)

__all__ = ["emulator"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@click.option("--port", type=int, default=0, help="The port (default: a free one).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds ids and behaviour.")
@click.option("--demo-company", is_flag=True, help="Emulate a Demo Company (no invoice emails).")
@click.option(
    "--granular", is_flag=True, help="Granular scopes, as connections created from 29 April 2026."
)
@click.option("--no-rate-limits", is_flag=True, help="Switch Xero's rate limits off.")
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Run time this many times faster (a rate-limit minute passes in 60/N seconds).",
)
@click.option("--currency", multiple=True, metavar="CODE", help="Enable another currency.")
@click.option("--webhook-url", metavar="URL", help="Deliver signed webhooks to this URL.")
@click.option(
    "--webhook-interval",
    type=click.FloatRange(min=0, min_open=True),
    default=2.0,
    show_default=True,
    help="Seconds between webhook deliveries.",
)
@json_option
def emulator(
    *,
    host: str,
    port: int,
    seed: int,
    demo_company: bool,
    granular: bool,
    no_rate_limits: bool,
    scale: float,
    currency: tuple[str, ...],
    webhook_url: str | None,
    webhook_interval: float,
    as_json: bool,
) -> None:
    """Serve a local Xero emulator and print the variables to export; stop with Ctrl-C.

    The credentials printed are the emulator's own, fake ones. Save the output as an env file
    to use it with --env-file: `ams-billing emulator > emulator.env`.
    """
    config = EmulatorConfig(
        seed=seed,
        is_demo_company=demo_company,
        scopes=GRANULAR_SCOPES if granular else BROAD_SCOPES,
        rate_limits=not no_rate_limits,
        currencies=("NZD", *(c.upper() for c in currency if c.upper() != "NZD")),
    )
    xero = XeroEmulator(config, clock=EmulatorClock.real(scale=scale))
    if webhook_url:
        xero.set_webhook_target(webhook_url)
    try:
        server = EmulatorServer(
            xero, host, port, webhook_interval=webhook_interval if webhook_url else None
        )
        server.start()
    except (ValueError, OSError) as error:
        raise click.UsageError(f"cannot serve on {host}:{port}: {error}") from None
    stop = threading.Event()
    previous = _on_sigterm(stop)
    try:
        with throwaway_database() as database:
            _serve(server, config, database, stop, as_json=as_json)
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _serve(
    server: EmulatorServer,
    config: EmulatorConfig,
    database: str,
    stop: threading.Event,
    *,
    as_json: bool,
) -> None:
    """Print what to export, then wait for Ctrl-C or SIGTERM."""
    exports = provider_environment(config, server.base_url, database_url=database)
    control = f"{server.base_url}/_emulator/calls"
    if as_json:
        document = {"ok": True, "base_url": server.base_url, "control_url": control}
        click.echo(json.dumps({**document, "environment": exports}), nl=True)
    else:
        click.echo(
            "# Xero emulator running; export these (fake credentials, and billing state in "
            "a throwaway SQLite file of this emulator's own, deleted when it stops):"
        )
        for name, value in exports.items():
            click.echo(f"export {name}={value}")
        click.echo(f"# control surface: {control}  (Ctrl-C to stop)")
    sys.stdout.flush()
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    click.echo("stopping", err=True)


_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def _on_sigterm(stop: threading.Event) -> _Handler:
    """Make SIGTERM stop the server cleanly (main thread only); return the old handler."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return signal.signal(signal.SIGTERM, handler)
