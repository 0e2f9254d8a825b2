"""``ams-billing emulator``: serve a provider's emulator for local AMS development.

Xero by default, or Stripe with ``--provider stripe``.

The same server as ``python -m ams_billing.emulators.xero``, through the same
:func:`~ams_billing.emulators.xero.foreground.serve_in_foreground`: it prints the
variables to export (the emulator's own fake credentials, never anything from the
environment), then serves on loopback until Ctrl-C, SIGTERM or SIGHUP, and exits 0. The
variables include an ``AMS_BILLING_DATABASE_URL`` of the emulator's own, a throwaway SQLite
file whose folder is deleted when it stops: billing state kept in the default database would
remember ids from earlier emulators, whose books are gone. With ``--provider stripe`` it serves
:mod:`ams_billing.emulators.stripe` and prints ``STRIPE_API_BASE`` and ``STRIPE_SECRET_KEY``
(and, with ``--webhook-url``, registers an endpoint there and prints its
``STRIPE_WEBHOOK_SECRET``); the Xero-only options are refused with it.
"""

from __future__ import annotations

import json

import click

from ams_billing.cli.output import json_option
from ams_billing.emulators.stripe.foreground import (
    StripeAnnouncement,
    StripeOptions,
    serve_stripe_in_foreground,
)
from ams_billing.emulators.xero.foreground import (
    Announcement,
    CannotServeError,
    EmulatorOptions,
    serve_in_foreground,
)

__all__ = ["emulator"]


@click.command(short_help="Serve a local Xero (or Stripe) emulator; print what to export.")
@click.option(
    "--provider",
    type=click.Choice(["xero", "stripe"]),
    default="xero",
    show_default=True,
    help="Which system to emulate.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@click.option("--port", type=int, default=0, help="The port (default: a free one).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds ids and behaviour.")
@click.option("--demo-company", is_flag=True, help="Emulate a Demo Company (no invoice emails).")
@click.option(
    "--granular", is_flag=True, help="Granular scopes, as connections created from 29 April 2026."
)
@click.option("--no-rate-limits", is_flag=True, help="Switch the rate limits off.")
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Run time this many times faster (a rate-limit minute passes in 60/N seconds).",
)
@click.option("--currency", multiple=True, metavar="CODE", help="Enable another currency.")
@click.option(
    "--webhook-url",
    metavar="URL",
    help="Deliver signed webhooks to this URL (Stripe: register an endpoint there).",
)
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
    provider: str,
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

    SIGTERM and SIGHUP stop it too; its throwaway database folder goes with it (exit 0). The
    credentials printed are the emulator's own, fake ones. Save the output as an env file to
    use it with --env-file: `ams-billing emulator > emulator.env`. `--provider stripe`
    serves a Stripe test-mode emulator instead and prints STRIPE_API_BASE and
    STRIPE_SECRET_KEY (and STRIPE_WEBHOOK_SECRET with --webhook-url).
    """
    if provider == "stripe":
        xero_only = {"--demo-company": demo_company, "--granular": granular, "--currency": currency}
        for name, given in xero_only.items():
            if given:
                raise click.UsageError(f"{name} applies to --provider xero only")
        _serve_stripe(
            StripeOptions(
                host=host,
                port=port,
                seed=seed,
                rate_limits=not no_rate_limits,
                scale=scale,
                webhook_url=webhook_url,
                webhook_interval=webhook_interval,
            ),
            as_json=as_json,
        )
        return
    options = EmulatorOptions(
        host=host,
        port=port,
        seed=seed,
        demo_company=demo_company,
        granular=granular,
        rate_limits=not no_rate_limits,
        scale=scale,
        currencies=currency,
        webhook_url=webhook_url,
        webhook_interval=webhook_interval,
    )

    def announce(announcement: Announcement) -> None:
        if as_json:
            click.echo(json.dumps(announcement.as_json()))
        else:
            click.echo("\n".join(announcement.lines()))

    try:
        serve_in_foreground(
            options, announce, stopped=lambda reason: click.echo(f"stopping ({reason})", err=True)
        )
    except CannotServeError as error:
        raise click.UsageError(str(error)) from None


def _serve_stripe(options: StripeOptions, *, as_json: bool) -> None:
    def announce(announcement: StripeAnnouncement) -> None:
        if as_json:
            click.echo(json.dumps(announcement.as_json()))
        else:
            click.echo("\n".join(announcement.lines()))

    try:
        serve_stripe_in_foreground(
            options, announce, stopped=lambda reason: click.echo(f"stopping ({reason})", err=True)
        )
    except CannotServeError as error:
        raise click.UsageError(str(error)) from None
