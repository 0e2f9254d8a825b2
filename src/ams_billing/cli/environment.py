"""Where a command reads its configuration: the process environment, or an ``--env-file``.

An env file holds ``NAME=value`` lines; blank lines, ``#`` comments and a leading ``export``
are allowed, and one pair of matching quotes around a value is removed. That is the format
``ams-billing emulator`` prints, and the format of most deployment ``.env`` files. When a
command is given ``--env-file``, it reads its variables from that file *only*, so the file is
checked as it will be deployed, whatever the shell around it has set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from ams_billing.core.errors import ConfigurationError, FieldError

__all__ = [
    "SECRET_VARIABLES",
    "command_environment",
    "env_file_option",
    "read_env_file",
    "secret_values",
]

SECRET_VARIABLES = (
    "XERO_CLIENT_SECRET",
    "XERO_WEBHOOK_KEY",
    "AMS_BILLING_FAKE_WEBHOOK_KEY",
    "AMS_BILLING_RATE_LIMIT_REDIS_URL",  # may carry a password
)
"""Variables whose values no command ever prints."""

_LINE = re.compile(r"(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*)")

F = TypeVar("F", bound=Callable[..., Any])


def env_file_option(function: F) -> F:
    """The ``--env-file PATH`` option (read the variables from this file only)."""
    option = click.option(
        "--env-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Read the variables from this file (NAME=value lines, as `ams-billing emulator` "
        "prints them) instead of the environment.",
    )
    return option(function)


def read_env_file(path: Path) -> dict[str, str]:
    """Parse an env file; every malformed line is reported at once."""
    values: dict[str, str] = {}
    problems: list[FieldError] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            problems.append(
                FieldError(
                    f"{path.name}:{number}",
                    "is not a NAME=value line",
                    "write one variable per line, e.g. XERO_ACCOUNT_CODE=200",
                )
            )
            continue
        values[match["name"]] = _unquote(match["value"].strip())
    if problems:
        raise ConfigurationError(f"{path} cannot be read:", problems)
    return values


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def command_environment(env_file: Path | None) -> dict[str, str]:
    """The variables a command reads: the env file's when given, else the process's."""
    if env_file is not None:
        return read_env_file(env_file)
    return dict(os.environ)


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """The values of :data:`SECRET_VARIABLES` that are set (to keep out of any output)."""
    return [value for name in SECRET_VARIABLES if (value := (environ.get(name) or "").strip())]
