"""How commands report: rich text for people, ``--json`` for scripts, never a secret.

Every command builds one :class:`Output`. In text mode it prints through rich (colour only on a
terminal, ``NO_COLOR`` honoured; markup is off, so a value such as a regular expression is
printed as it is). In ``--json`` mode it prints exactly one JSON document on stdout, with
stable keys and no colour. Whatever is printed, in either mode and on either stream, goes
through :meth:`Output.redact` first: the values of the secret variables (and any access token
a command handled) are replaced by ``[redacted]``. That is a second line of defence — no
command puts a secret into its results in the first place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

import click
from rich.console import Console, RenderableType
from rich.text import Text

from ams_billing.cli.exit_codes import ExitCode, exit_code_for
from ams_billing.core.errors import ConfigurationError, FieldError, ValidationError

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "Output", "json_option"]

REDACTED = "[redacted]"
"""What a secret is replaced with, should one ever reach the output."""

MIN_SECRET_LENGTH = 6
"""Shorter values are not searched for: replacing every ``a`` would garble the output."""


def json_option(function: Any) -> Any:
    """The ``--json`` flag: one machine-readable JSON document on stdout, no colour."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        default=False,
        help="Print one JSON document (stable keys, no colour) instead of text.",
    )(function)


class Output:
    """Where a command's results go (stdout) and its progress and errors (stderr)."""

    def __init__(self, *, json_mode: bool = False, secrets: Iterable[str] = ()) -> None:
        self.json_mode = json_mode
        self._secrets: list[str] = []
        for secret in secrets:
            self.keep_secret(secret)
        self.console = Console(markup=False, highlight=False, emoji=False)
        self.errors = Console(stderr=True, markup=False, highlight=False, emoji=False)

    def keep_secret(self, value: str | None) -> None:
        """Never print ``value`` (nor any part of it that is printed whole)."""
        if value and len(value) >= MIN_SECRET_LENGTH and value not in self._secrets:
            self._secrets.append(value)
            self._secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by :data:`REDACTED`."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def scrub(self, data: Any) -> Any:
        """A copy of JSON-ready ``data`` with every string redacted."""
        if isinstance(data, str):
            return self.redact(data)
        if isinstance(data, Mapping):
            return {self.redact(str(k)): self.scrub(v) for k, v in data.items()}
        if isinstance(data, list | tuple):
            return [self.scrub(item) for item in data]
        return data

    # -- text mode ------------------------------------------------------------------------

    def text(self, value: str, style: str | None = None) -> Text:
        """A redacted rich ``Text`` (for table cells and lines)."""
        return Text(self.redact(value), style=style or "")

    def line(self, value: str = "", style: str | None = None, *, stderr: bool = False) -> None:
        """Print one line (not wrapped by rich: the terminal wraps it)."""
        if self.json_mode and not stderr:
            return
        console = self.errors if stderr else self.console
        console.print(self.text(value, style), soft_wrap=True)

    def show(self, renderable: RenderableType, *, soft_wrap: bool = False) -> None:
        """Print a rich renderable (a table) built from :meth:`text` cells; text mode only.

        ``soft_wrap`` prints it as it is, neither wrapped nor cropped to the console's width
        (:mod:`ams_billing.cli.layout` shows tables that way when they would cut a value).
        """
        if not self.json_mode:
            self.console.print(renderable, soft_wrap=soft_wrap)

    # -- json mode ------------------------------------------------------------------------

    def json(self, document: Mapping[str, Any]) -> None:
        """Print ``document`` as indented JSON on stdout (json mode only)."""
        if self.json_mode:
            click.echo(json.dumps(self.scrub(document), indent=2, ensure_ascii=False))

    # -- endings --------------------------------------------------------------------------

    def fail(self, error: BaseException) -> NoReturn:
        """Report ``error`` (to stdout as JSON, or to stderr as text) and exit with its code."""
        code = exit_code_for(error)
        problems = _problems(error)
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if self.json_mode:
            self.json(
                {
                    "ok": False,
                    "exit_code": int(code),
                    "error": {
                        "type": type(error).__name__,
                        "message": message,
                        "problems": [
                            {"variable": p.field, "message": p.message, "fix": p.fix}
                            for p in problems
                        ],
                    },
                }
            )
        else:
            self.line(f"error: {message}", "bold red", stderr=True)
            for problem in problems:
                self.line(f"  - {problem.field}: {problem.message}", "red", stderr=True)
                if problem.fix:
                    self.line(f"    fix: {problem.fix}", stderr=True)
        self.exit(code)

    def exit(self, code: ExitCode | int) -> NoReturn:
        """End the command with ``code``."""
        raise click.exceptions.Exit(int(code))


def _problems(error: BaseException) -> tuple[FieldError, ...]:
    if isinstance(error, ConfigurationError | ValidationError):
        return error.errors
    return ()
