"""``ams-billing providers``: the installed providers and what each can do here."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import click
from rich.table import Table
from rich.text import Text

from ams_billing.assembly.loading import (
    SERVICE_CLASS_VARIABLE,
    available_providers,
    resolve_provider_class,
)
from ams_billing.cli.environment import command_environment, env_file_option, secret_values
from ams_billing.cli.exit_codes import ExitCode
from ams_billing.cli.layout import Block, show_rows
from ams_billing.cli.output import Output, json_option
from ams_billing.core.errors import BillingError, ConfigurationError
from ams_billing.providers.xero import XeroProvider

__all__ = ["ProviderRow", "describe_provider", "providers"]


@attrs.frozen
class ProviderRow:
    """One provider: where it lives, whether it is selected, and its capabilities or why not.

    ``problems`` are the configuration problems that kept it from being built (all of them are
    in ``reason`` too); ``details_from`` is the command that explains them.
    """

    name: str
    target: str
    selected: bool
    built: bool
    capabilities: tuple[str, ...] | None = None
    reason: str | None = None
    problems: tuple[str, ...] = ()
    details_from: str = "ams-billing providers --json"

    def summary(self) -> str:
        """One short status for the text listing: capabilities, or why there are none."""
        if self.capabilities is not None:
            return ", ".join(self.capabilities)
        if self.problems:
            count = len(self.problems)
            plural = "problem" if count == 1 else "problems"
            return f"not configured: {count} {plural}; run `{self.details_from}`"
        return self.reason or ""

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form."""
        return {
            "name": self.name,
            "target": self.target,
            "selected": self.selected,
            "built": self.built,
            "capabilities": list(self.capabilities) if self.capabilities is not None else None,
            "reason": self.reason,
        }


def describe_provider(
    name: str,
    target: str,
    environ: Mapping[str, str],
    selected_class: type[Any] | None,
    *,
    lookup: str | None = None,
) -> ProviderRow:
    """Resolve a provider and build it from ``environ`` if it can be; say why not otherwise.

    ``lookup`` is what to resolve (default ``name``, an entry-point name).
    """
    try:
        provider_class = resolve_provider_class(lookup or name)
    except ConfigurationError as error:
        return ProviderRow(name, target, False, False, reason=str(error))
    selected = selected_class is not None and provider_class is selected_class
    from_env = getattr(provider_class, "from_env", None)
    try:
        instance = from_env(environ) if callable(from_env) else provider_class()
    except ConfigurationError as error:
        problems = tuple(str(e) for e in error.errors) or (str(error),)
        return ProviderRow(
            name,
            target,
            selected,
            False,
            reason=f"not configured here: {'; '.join(problems)}",
            problems=problems,
            # ams-billing check explains the Xero configuration, problem by problem.
            details_from=(
                "ams-billing check"
                if issubclass(provider_class, XeroProvider)
                else "ams-billing providers --json"
            ),
        )
    except (TypeError, ValueError) as error:
        return ProviderRow(
            name, target, selected, False, reason=f"cannot be built from the environment: {error}"
        )
    try:
        offered = sorted(c.value for c in instance.get_capabilities())
    except BillingError as error:
        return ProviderRow(name, target, selected, True, reason=f"capabilities unknown: {error}")
    finally:
        close = getattr(instance, "close", None)
        if callable(close):
            close()
    return ProviderRow(name, target, selected, True, capabilities=tuple(offered))


@click.command(short_help="List the installed providers and their capabilities.")
@env_file_option
@json_option
def providers(*, env_file: Path | None, as_json: bool) -> None:
    """List the installed billing providers, with capabilities where they can be built.

    A provider is built only when its variables are set (the Xero provider then asks Xero
    whether the organisation can email); otherwise the listing counts the problems, which
    `ams-billing check` explains (and --json lists). Exits 3 when AMS_BILLING_SERVICE_CLASS
    names nothing that can be loaded.
    """
    output = Output(json_mode=as_json)
    try:
        environ = command_environment(env_file)
    except ConfigurationError as error:
        output.fail(error)
    for secret in secret_values(environ):
        output.keep_secret(secret)
    value = (environ.get(SERVICE_CLASS_VARIABLE) or "").strip()
    selected_class: type[Any] | None = None
    selection_error: str | None = None
    if value:
        try:
            selected_class = resolve_provider_class(value)
        except ConfigurationError as error:
            selection_error = str(error)
    rows = [
        describe_provider(name, target, environ, selected_class)
        for name, target in sorted(available_providers().items())
    ]
    if selected_class is not None and not any(row.selected for row in rows):
        rows.append(describe_provider("(class path)", value, environ, selected_class, lookup=value))
    code = ExitCode.CONFIGURATION if selection_error else ExitCode.OK
    output.json(
        {
            "ok": selection_error is None,
            "exit_code": int(code),
            "selected": value or None,
            "selection_error": selection_error,
            "providers": [row.as_json() for row in rows],
        }
    )
    _show_rows(output, rows)
    if selection_error:
        output.line(f"{SERVICE_CLASS_VARIABLE}: {selection_error}", "red", stderr=True)
    output.exit(code)


def _show_rows(output: Output, rows: list[ProviderRow]) -> None:
    """A table when the console is wide enough for it, else one short block per provider."""
    statuses = [
        output.text(row.summary(), "green" if row.capabilities is not None else "yellow")
        for row in rows
    ]
    table = Table(show_header=True, header_style="bold")
    for column in ("provider", "target", "selected", "capabilities"):
        table.add_column(column, no_wrap=column != "capabilities")
    for row, status in zip(rows, statuses, strict=True):
        table.add_row(
            output.text(row.name, "bold"),
            output.text(row.target),
            output.text("yes" if row.selected else ""),
            status,
        )
    blocks = []
    for row, status in zip(rows, statuses, strict=True):
        heading = Text.assemble(output.text(row.name, "bold"))
        if row.selected:
            heading.append(" (selected)")
        heading.append_text(output.text(f"  {row.target}"))
        blocks.append(Block(heading, (status,), indent=2))
    # A table squeezed to fit would wrap the capabilities a few characters wide: stack instead.
    show_rows(output, table, blocks, wrapping=False)
