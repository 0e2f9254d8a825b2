"""``ams-billing check``: self-test the Xero or Stripe configuration, each failure with its fix."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from ams_billing.cli.checks import CheckStatus, Report, checked_provider, run_self_test
from ams_billing.cli.context import cli_context
from ams_billing.cli.environment import command_environment, env_file_option, secret_values
from ams_billing.cli.layout import Block, show_rows
from ams_billing.cli.output import Output, json_option
from ams_billing.core.errors import ConfigurationError

__all__ = ["STYLES", "check", "render_report"]

STYLES = {
    CheckStatus.PASS: "green",
    CheckStatus.WARN: "yellow",
    CheckStatus.FAIL: "bold red",
    CheckStatus.SKIP: "dim",
}
"""How each status is coloured (on a terminal)."""


@click.command(short_help="Self-test the Xero or Stripe set-up, each failure with its fix.")
@env_file_option
@click.option(
    "--provider",
    type=click.Choice(["auto", "xero", "stripe"]),
    default="auto",
    show_default=True,
    help="Whose set-up to check. auto: Stripe when AMS_BILLING_SERVICE_CLASS names it, or when "
    "STRIPE_SECRET_KEY is set without XERO_CLIENT_ID; Xero otherwise.",
)
@click.option(
    "--webhook-url",
    metavar="URL",
    default=None,
    help="Xero: also check the AMS's webhook endpoint at URL: HTTPS, the guide's path, and "
    "Xero's Intent-to-Receive (correctly and incorrectly signed deliveries). Stripe: the "
    "webhook endpoint registered at URL (without it, any registered endpoint).",
)
@json_option
def check(*, env_file: Path | None, provider: str, webhook_url: str | None, as_json: bool) -> None:
    """Self-test the configuration against Xero or Stripe, as troubleshooting would.

    Xero: the variables, the credentials, the tenant, the scopes, the organisation (a Demo
    Company cannot email), the account code, the currency, the email whitelist, the webhook
    key and, with --webhook-url, the webhook endpoint. Stripe: the variables, the key's shape
    and mode (test or live, restricted), that Stripe accepts it and what it may read, the
    webhook endpoint registered for the events the provider needs, and the webhook secret.
    Exits 0 when nothing failed, 3 when a variable is invalid, 4 when the provider is
    unreachable or refuses the connection, 1 otherwise.
    """
    output = Output(json_mode=as_json)
    try:
        environ = command_environment(env_file)
    except ConfigurationError as error:
        output.fail(error)
    for secret in secret_values(environ):
        output.keep_secret(secret)
    source = str(env_file) if env_file else "the environment"
    chosen = checked_provider(environ) if provider == "auto" else provider
    report = run_self_test(
        environ,
        keep_secret=output.keep_secret,
        webhook_url=webhook_url,
        xero_options=cli_context().xero_options,
        provider=chosen,
    )
    if as_json:
        extra: dict[str, str | None] = {"source": source, "webhook_url": webhook_url}
        if chosen != "xero":  # the Xero document keeps its shape
            extra["provider"] = chosen
        output.json(report.as_json(extra))
    else:
        render_report(output, report, source, provider=chosen)
    output.exit(report.exit_code)


def render_report(output: Output, report: Report, source: str, *, provider: str = "xero") -> None:
    """Print the report as a table, with each fix under its result, then a summary line.

    When the table would cut a value (a long database URL in a narrow terminal or a pipe),
    each result is a block of lines instead: ``STATUS  check: result``, then its problems and
    fix, indented; see :mod:`ams_billing.cli.layout`.
    """
    name = "Stripe" if provider == "stripe" else "Xero"
    output.line(f"ams-billing check: the {name} setup, from {source}", "bold")
    table = Table(show_header=True, header_style="bold", expand=False, show_lines=False)
    table.add_column("", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("result")
    blocks: list[Block] = []
    for result in report.results:
        notes: list[Text] = []
        for problem in result.problems:
            note = output.text(f"- {problem.variable}: {problem.message}")
            if problem.fix:
                note.append_text(output.text(f" (fix: {problem.fix})", "dim"))
            notes.append(note)
        if result.fix and result.status in (CheckStatus.FAIL, CheckStatus.WARN):
            notes.append(output.text(f"fix: {result.fix}", "cyan"))
        label = Text(result.status.value.upper(), style=STYLES[result.status])
        detail = output.text(result.detail)
        table.add_row(label, output.text(result.title), Text("\n").join([detail, *notes]))
        first = Text.assemble(label, "  ", output.text(result.title), ": ", detail)
        blocks.append(Block(first, tuple(notes), indent=len(label) + 2))
    show_rows(output, table, blocks)
    counts = report.counts()
    summary = (
        f"{counts['pass']} passed, {counts['warn']} warned, {counts['fail']} failed, "
        f"{counts['skip']} skipped; exit {int(report.exit_code)}"
    )
    output.line(summary, "bold green" if report.ok else "bold red")
