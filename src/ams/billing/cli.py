"""The ``ams-billing`` command line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager

import click

from ams.billing._version import __version__
from ams.billing.core.loading import available_providers
from ams.billing.demo import DemoEnvironment, fake_environment, run_demo

__all__ = ["main"]


def _emulator() -> AbstractContextManager[DemoEnvironment]:
    from ams.billing.demo_emulator import emulator_environment  # noqa: PLC0415 - httpx stack

    return emulator_environment()


ENVIRONMENTS: dict[str, Callable[[], AbstractContextManager[DemoEnvironment]]] = {
    "emulator": _emulator,
    "fake": fake_environment,
}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ams-billing")
def main() -> None:
    """Bill association members through Xero (or another provider), and check the set-up."""


@main.command()
@click.option(
    "--provider",
    type=click.Choice(sorted(ENVIRONMENTS)),
    default="emulator",
    show_default=True,
    help="emulator: the Xero provider against a local Xero emulator over loopback HTTP; "
    "fake: the in-memory provider.",
)
def demo(provider: str) -> None:
    """Run the setup guide's verification flow end to end; exit 0 only if every step held."""
    with ENVIRONMENTS[provider]() as environment:
        succeeded = run_demo(environment, click.echo)
    sys.exit(0 if succeeded else 1)


@main.command()
def providers() -> None:
    """List the installed billing providers (entry points in ams.billing.providers)."""
    for name, target in sorted(available_providers().items()):
        click.echo(f"{name}\t{target}")
