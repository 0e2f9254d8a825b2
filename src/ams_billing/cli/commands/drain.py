"""``ams-billing webhooks drain``: process what the durable inbox holds (cron or a worker).

The webhook endpoint keeps each verified delivery in the inbox before it answers 200; this
command reads the invoices the kept deliveries name, tells the listeners, and marks them done.
Entries another worker holds are left to it; a failed batch stays for the next run (exit 1).
"""

from __future__ import annotations

from pathlib import Path

import click

from ams_billing.assembly import load_durable_service
from ams_billing.cli.commands.sync import load_listener
from ams_billing.cli.context import cli_context, default_service_factory
from ams_billing.cli.environment import command_environment, env_file_option, secret_values
from ams_billing.cli.exit_codes import ExitCode
from ams_billing.cli.output import Output, json_option
from ams_billing.core.errors import BillingError
from ams_billing.core.webhooks import DEFAULT_LEASE_SECONDS, MAX_COALESCED, drain_inbox
from ams_billing.stores.database import shown_url
from ams_billing.stores.service import open_service_stores, service_database_url

__all__ = ["drain"]


@click.command("drain", short_help="Process the deliveries kept in the inbox.")
@env_file_option
@click.option(
    "--url",
    metavar="URL",
    help="The stores' database; default $AMS_BILLING_DATABASE_URL, else the SQLite file.",
)
@click.option(
    "--listener",
    "listeners",
    metavar="MODULE:NAME",
    multiple=True,
    help="A listener to notify of each change (an object or class with invoice_changed).",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 1000),
    default=MAX_COALESCED,
    show_default=True,
    help="Inbox entries taken, and their invoices read, together.",
)
@click.option(
    "--lease-seconds",
    type=click.FloatRange(1, 86_400),
    default=DEFAULT_LEASE_SECONDS,
    show_default=True,
    help="How long the entries taken are held before another worker may take them over.",
)
@json_option
def drain(
    *,
    env_file: Path | None,
    url: str | None,
    listeners: tuple[str, ...],
    batch: int,
    lease_seconds: float,
    as_json: bool,
) -> None:
    """Process the webhook deliveries kept in the inbox, until none is free.

    Exits 0 when everything free was processed, 1 when a batch failed (it stays in the inbox
    for the next run), 3 on a configuration error, 4 when the provider is unreachable.
    """
    output = Output(json_mode=as_json)
    try:
        environ = command_environment(env_file)
        for secret in secret_values(environ):
            output.keep_secret(secret)
        database = url or service_database_url(environ)
        loaded = [load_listener(spec) for spec in listeners]
        with open_service_stores(database, environ) as stores:
            factory = cli_context().service_factory
            if factory is default_service_factory:
                service = load_durable_service(stores, environ=environ, listeners=loaded)
            else:  # an embedding AMS, or a test, builds its own service
                service = factory(environ, loaded)
            with service:
                result = drain_inbox(
                    service, stores.inbox, batch=batch, lease_seconds=lease_seconds
                )
            pending = stores.inbox.pending()
    except BillingError as error:  # exit 3 for configuration, 4 for the provider
        output.fail(error)
    report = {
        "database": shown_url(database),
        "processed": result.processed,
        "failed": result.failed,
        "pending": pending,
    }
    if as_json:
        output.json(report)
    else:
        output.line(
            f"ams-billing webhooks drain: {result.processed} processed, {result.failed} failed, "
            f"{pending} still in the inbox ({report['database']})",
            "bold red" if result.failed else "bold green",
        )
    output.exit(ExitCode.FAILED if result.failed else ExitCode.OK)
