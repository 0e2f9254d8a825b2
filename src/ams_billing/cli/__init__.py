"""The ``ams-billing`` command line.

Commands (one module each in :mod:`ams_billing.cli.commands`):

- ``check``: the setup guide's setup and troubleshooting, as a self-test of the configuration;
- ``db upgrade|status``: the durable stores' schema revision;
- ``demo``: the guide's "Verifying the Integration" flow, end to end;
- ``emulator``: serve the Xero emulator for local development;
- ``new-provider``: write a new provider's project (provider, harness, tests, CI), ready to test;
- ``providers``: the installed providers and their capabilities;
- ``sync``: reconcile invoices, resumably;
- ``webhooks send|verify|drain``: test a webhook endpoint, verify a captured delivery,
  process the deliveries kept in the durable inbox (``webhook``, singular, is a hidden and
  deprecated alias).

Every command that reports takes ``--json``; exit statuses are in
:mod:`ams_billing.cli.exit_codes`. No command prints a client secret, an access token or a
webhook key.
"""

from __future__ import annotations

import click

from ams_billing._version import __version__
from ams_billing.cli.commands.check import check
from ams_billing.cli.commands.db import db
from ams_billing.cli.commands.demo import ENVIRONMENTS, demo
from ams_billing.cli.commands.emulator import emulator
from ams_billing.cli.commands.new_provider import new_provider
from ams_billing.cli.commands.providers import providers
from ams_billing.cli.commands.sync import sync
from ams_billing.cli.commands.webhook import webhook_alias, webhooks
from ams_billing.cli.context import CliContext
from ams_billing.cli.exit_codes import ExitCode

__all__ = ["ENVIRONMENTS", "CliContext", "ExitCode", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ams-billing")
@click.pass_context
def main(context: click.Context) -> None:
    """Bill association members through Xero (or another provider), and check the set-up.

    Exit statuses: 0 ok, 1 a check or flow failed, 2 usage error, 3 configuration error,
    4 provider unreachable or refusing the credentials, 130 interrupted.
    """
    context.ensure_object(CliContext)


for _command in (check, db, demo, emulator, new_provider, providers, sync, webhooks, webhook_alias):
    main.add_command(_command)
