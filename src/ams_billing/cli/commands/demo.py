"""``ams-billing demo``: the setup guide's "Verifying the Integration" flow, end to end."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import click

from ams_billing.cli.demo.flow import DemoEnvironment, DemoStep, fake_environment, run_demo
from ams_billing.cli.environment import secret_values
from ams_billing.cli.exit_codes import ExitCode
from ams_billing.cli.interrupts import signals_interrupt
from ams_billing.cli.output import Output, json_option

__all__ = ["ENVIRONMENTS", "demo"]


def _emulator() -> AbstractContextManager[DemoEnvironment]:
    from ams_billing.cli.demo.on_emulator import emulator_environment  # noqa: PLC0415 - httpx stack

    return emulator_environment()


def _stripe() -> AbstractContextManager[DemoEnvironment]:
    from ams_billing.cli.demo.on_stripe_emulator import (  # noqa: PLC0415 - httpx stack
        stripe_emulator_environment,
    )

    return stripe_emulator_environment()


ENVIRONMENTS: dict[str, Callable[[], AbstractContextManager[DemoEnvironment]]] = {
    "emulator": _emulator,
    "fake": fake_environment,
    "stripe": _stripe,
}
"""Where the demo can run, by ``--provider`` name."""


@click.command(short_help="Run the setup guide's verification flow end to end.")
@click.option(
    "--provider",
    type=click.Choice(sorted(ENVIRONMENTS)),
    default="emulator",
    show_default=True,
    help="emulator: the Xero provider against a local Xero emulator over loopback HTTP; "
    "stripe: the Stripe provider against a local Stripe emulator over loopback HTTP; "
    "fake: the in-memory provider.",
)
@json_option
def demo(*, provider: str, as_json: bool) -> None:
    """Run the setup guide's verification flow end to end; exit 0 only if every step held.

    Ctrl-C, SIGTERM or SIGHUP stop it with exit 130, after it has deleted its throwaway
    database folder.
    """
    output = Output(json_mode=as_json, secrets=secret_values(os.environ))
    steps: list[DemoStep] = []
    started = time.perf_counter()

    def say(line: str) -> None:
        output.line(line, "bold red" if "FAIL" in line else None)

    try:
        with signals_interrupt(), ENVIRONMENTS[provider]() as environment:
            succeeded = run_demo(environment, say, record=steps.append)
            description = environment.description
    except KeyboardInterrupt:
        # Ctrl-C, SIGTERM or SIGHUP: the environment has closed, its folder is gone.
        output.line("interrupted: the demo stopped and cleaned up", "yellow", stderr=True)
        output.exit(ExitCode.INTERRUPTED)
    code = ExitCode.OK if succeeded else ExitCode.FAILED
    output.json(
        {
            "ok": succeeded,
            "exit_code": int(code),
            "provider": provider,
            "description": description,
            "steps": [{"step": s.step, "ok": s.ok, "detail": s.detail} for s in steps],
            "elapsed_seconds": round(time.perf_counter() - started, 3),
        }
    )
    output.exit(code)
