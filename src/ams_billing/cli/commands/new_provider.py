"""``ams-billing new-provider NAME``: a new provider's project, green from the first run.

Writes ``ams-billing-NAME/`` (in the current folder, or ``--directory``): a distribution whose
provider bills an in-process stand-in for the remote system and passes the contract suite as
generated (:mod:`ams_billing.cli.scaffold`). The author then replaces the stand-in with real
calls; docs/providers.md walks through the files.
"""

from __future__ import annotations

from pathlib import Path

import click

from ams_billing.cli.output import Output, json_option
from ams_billing.cli.scaffold import (
    InvalidNameError,
    ProjectExistsError,
    ProjectNames,
    write_project,
)

__all__ = ["new_provider"]


def _names(context: click.Context, parameter: click.Parameter, value: str) -> ProjectNames:
    try:
        return ProjectNames.of(value)
    except InvalidNameError as error:
        raise click.BadParameter(str(error)) from None


@click.command("new-provider", short_help="Write a new provider's project, ready to test.")
@click.argument("name", metavar="NAME", callback=_names)
@click.option(
    "-o",
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Where to write the project's folder, ams-billing-NAME.",
)
@click.option(
    "--force", is_flag=True, help="Write into an existing folder (the template's files only)."
)
@json_option
def new_provider(*, name: ProjectNames, directory: Path, force: bool, as_json: bool) -> None:
    """Write ams-billing-NAME/: a provider, its contract harness, tests, README and CI.

    NAME is the provider's entry-point name (AMS_BILLING_SERVICE_CLASS=NAME), e.g. acme:
    lower-case letters and digits, words joined by single underscores. As generated, the
    provider bills an in-process stand-in for the remote system and passes the contract suite;
    replace the stand-in with real calls (the README says how).
    """
    output = Output(json_mode=as_json)
    try:
        folder, files = write_project(name, directory, force=force)
    except ProjectExistsError as error:
        raise click.UsageError(str(error)) from None
    steps = [
        f"cd {folder}",
        "python -m venv .venv && . .venv/bin/activate",
        'pip install "ams-billing[contracts] @ git+https://github.com/ams-billing/ams-billing"',
        'pip install ".[dev]"',
        "pytest",
        f"cd /tmp && pytest --pyargs ams_billing.contracts --billing-provider={name.name}",
    ]
    output.json(
        {
            "ok": True,
            "name": name.name,
            "distribution": name.distribution,
            "package": name.module,
            "directory": str(folder),
            "files": [str(path) for path in files],
            "next_steps": steps,
        }
    )
    output.line(f"wrote {folder}/ ({len(files)} files): the provider {name.name!r}")
    output.line("next:")
    for step in steps:
        output.line(f"  {step}")
