"""``ams-billing sync``: reconcile invoices with the provider, resumably, and summarise."""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ams_billing.cli.context import cli_context
from ams_billing.cli.environment import command_environment, env_file_option, secret_values
from ams_billing.cli.exit_codes import ExitCode, exit_code_for
from ams_billing.cli.layout import Block, show_rows
from ams_billing.cli.output import Output, json_option
from ams_billing.cli.sync_state import DEFAULT_STATE_FILE, SyncState
from ams_billing.cli.syncing import DEFAULT_BATCH_SIZE, SyncOutcome, Ticker, sync_ids, sync_since
from ams_billing.core.errors import ConfigurationError, FieldError
from ams_billing.core.models import ChangeKind, InvoiceChange
from ams_billing.core.service import BillingService

__all__ = ["change_json", "load_listener", "parse_moment", "sync"]


def parse_moment(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """Parse ``--since``: ISO 8601 with a timezone, e.g. ``2026-07-01T00:00:00Z``."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date and time, e.g. 2026-07-01T00:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no timezone: add one, e.g. Z for UTC or +12:00")
    return moment


def load_listener(spec: str) -> object:
    """Import ``module:name`` (or ``module.name``); a class is instantiated without arguments."""
    module_name, sep, attribute = spec.partition(":") if ":" in spec else spec.rpartition(".")
    try:
        if not sep or not module_name or not attribute:
            raise ImportError("not a module:name path")
        found = getattr(importlib.import_module(module_name), attribute)
        return found() if isinstance(found, type) else found
    except (ImportError, AttributeError, TypeError) as error:
        raise ConfigurationError(
            "a listener cannot be loaded:",
            [
                FieldError(
                    "--listener",
                    f"{spec!r} cannot be loaded ({type(error).__name__}: {error})",
                    "give module:name of an object (or class) with an @hookimpl "
                    "invoice_changed(change) method",
                )
            ],
        ) from None


class _Bar(Ticker):
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("reading invoices from the provider", total=None)

    def start(self, total: int, description: str) -> None:
        self.progress.update(self.task, total=total, description=description)

    def advance(self, count: int) -> None:
        self.progress.advance(self.task, count)


def change_json(change: InvoiceChange) -> dict[str, Any]:
    """The stable JSON form of one change."""
    invoice = change.invoice
    return {
        "invoice_id": invoice.provider_id,
        "number": invoice.number,
        "contact": invoice.contact.name,
        "kind": change.kind.value,
        "previous_status": change.previous_status.value if change.previous_status else None,
        "status": invoice.status.value,
        "currency": invoice.currency,
        "total": str(invoice.total),
        "amount_paid": str(invoice.amount_paid),
        "amount_due": str(invoice.amount_due),
        "updated_at": invoice.updated_at.isoformat(),
    }


@click.command(short_help="Reconcile invoices with the provider, resumably.")
@click.option(
    "--since",
    metavar="TIME",
    callback=parse_moment,
    help="Invoices changed at or after TIME (ISO 8601 with a timezone, e.g. 2026-07-01T00:00:00Z).",
)
@click.option("--since-last", is_flag=True, help="Since the high-water mark in the state file.")
@click.option("--id", "invoice_ids", multiple=True, metavar="ID", help="An invoice id (repeat).")
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_STATE_FILE,
    show_default=True,
    help="The state file (high-water mark, progress of an interrupted run).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=1000),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Invoices per batch; the state file is written after each.",
)
@click.option("--restart", is_flag=True, help="Ignore an interrupted run in the state file.")
@click.option(
    "--listener",
    "listeners",
    multiple=True,
    metavar="MODULE:NAME",
    help="A listener to notify of each change (an object or class with invoice_changed).",
)
@env_file_option
@json_option
def sync(
    *,
    since: datetime | None,
    since_last: bool,
    invoice_ids: tuple[str, ...],
    state_path: Path,
    batch_size: int,
    restart: bool,
    listeners: tuple[str, ...],
    env_file: Path | None,
    as_json: bool,
) -> None:
    """Reconcile invoices with the provider and summarise what changed.

    Give one of --since TIME, --since-last or --id (repeatable). Listeners hear of each change
    (paid, partly paid, voided...). The state file is written after every batch: after an
    interruption, run the same command (or --since-last) again and it continues. Exits 0 when
    done, 130 when interrupted, 3 on a configuration error, 4 when the provider fails.
    """
    modes = sum((since is not None, since_last, bool(invoice_ids)))
    if modes != 1:
        raise click.UsageError("give exactly one of --since TIME, --since-last or --id ID")
    output = Output(json_mode=as_json)
    try:
        environ = command_environment(env_file)
        for secret in secret_values(environ):
            output.keep_secret(secret)
        state = SyncState.load(state_path)
        loaded = [load_listener(spec) for spec in listeners]
        service = cli_context().service_factory(environ, loaded)
    except ConfigurationError as error:
        output.fail(error)
    if since_last:
        if state.high_water_mark is None:
            raise click.UsageError(
                f"{state_path} holds no high-water mark yet: run once with --since TIME"
            )
        since = state.high_water_mark
    try:
        outcome = _run(
            service,
            state,
            since=since,
            invoice_ids=invoice_ids,
            batch_size=batch_size,
            restart=restart,
            output=output,
        )
    finally:
        service.close()  # what load_service opened: the stores' pool, the provider's client
        close = getattr(service.provider, "close", None)
        if callable(close):  # a factory's service may own nothing: close its provider anyway
            close()
    _report(output, outcome, state)


def _run(
    service: BillingService,
    state: SyncState,
    *,
    since: datetime | None,
    invoice_ids: tuple[str, ...],
    batch_size: int,
    restart: bool,
    output: Output,
) -> SyncOutcome:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=output.errors,
        disable=output.json_mode,
    ) as progress:
        bar = _Bar(progress)
        if since is not None:
            outcome = sync_since(
                service, state, since, batch_size=batch_size, restart=restart, ticker=bar
            )
        else:
            outcome = sync_ids(
                service, state, invoice_ids, batch_size=batch_size, restart=restart, ticker=bar
            )
    return outcome


def _code(outcome: SyncOutcome) -> ExitCode:
    if outcome.interrupted:
        return ExitCode.INTERRUPTED
    if outcome.error is not None:
        return exit_code_for(outcome.error)
    return ExitCode.OK


def _report(output: Output, outcome: SyncOutcome, state: SyncState) -> None:
    code = _code(outcome)
    counts = Counter(change.kind for change in outcome.changes)
    per_kind = {kind.value: counts.get(kind, 0) for kind in ChangeKind}
    mark = state.high_water_mark.isoformat() if state.high_water_mark else None
    output.json(
        {
            "ok": code is ExitCode.OK,
            "exit_code": int(code),
            "mode": outcome.mode,
            "since": outcome.since.isoformat() if outcome.since else None,
            "started_from": outcome.started_from.isoformat() if outcome.started_from else None,
            "resumed": outcome.resumed,
            "completed": outcome.completed,
            "invoices": outcome.total,
            "done_before": outcome.done_before,
            "synced": outcome.processed,
            "batches": outcome.batches,
            "changes": per_kind,
            "changed_invoices": [change_json(c) for c in outcome.changes],
            "high_water_mark": mark,
            "state_file": str(state.path),
            "error": {"type": type(outcome.error).__name__, "message": str(outcome.error)}
            if outcome.error
            else None,
        }
    )
    what = (
        f"{outcome.total} invoice(s) changed since {outcome.started_from.isoformat()}"
        if outcome.mode == "since" and outcome.started_from
        else f"{outcome.total} invoice id(s)"
    )
    resumed = f", resuming ({outcome.done_before} done before)" if outcome.resumed else ""
    output.line(f"Synced {outcome.processed} of {what} in {outcome.batches} batch(es){resumed}.")
    output.line(
        "Changes: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in per_kind.items()),
        "bold",
    )
    if outcome.changes:
        _show_changes(output, [change_json(change) for change in outcome.changes])
    if mark:
        output.line(f"High-water mark: {mark} (in {state.path})")
    if outcome.interrupted:
        output.line(
            f"Interrupted: progress is saved in {state.path}; run the same command again to "
            "continue.",
            "yellow",
            stderr=True,
        )
    elif outcome.error is not None:
        output.line(f"error: {outcome.error}", "bold red", stderr=True)
        output.line(
            f"Progress up to the last complete batch is saved in {state.path}; run the same "
            "command again to continue.",
            stderr=True,
        )
    output.exit(code)


def _show_changes(output: Output, rows: Sequence[Mapping[str, Any]]) -> None:
    """One row per changed invoice: a table, or a line each when a table would cut a value."""
    table = Table(show_header=True, header_style="bold")
    for column in ("invoice", "contact", "was", "now", "paid", "due", "change"):
        table.add_column(column, no_wrap=column in ("invoice", "was", "now", "change"))
    blocks = []
    for row in rows:
        invoice = output.text(row["number"] or row["invoice_id"])
        contact = output.text(row["contact"])
        was, now = output.text(row["previous_status"] or "-"), output.text(row["status"])
        paid = output.text(f"{row['currency']} {row['amount_paid']}")
        due = output.text(row["amount_due"])
        change = output.text(row["kind"].replace("_", " "), "green")
        table.add_row(invoice, contact, was, now, paid, due, change)
        line = Text.assemble(invoice, "  ", contact, ": ", now)
        if row["previous_status"]:
            line.append_text(Text.assemble(" (was ", was, ")"))
        line.append_text(Text.assemble(", paid ", paid, ", due ", due, ": ", change))
        blocks.append(Block(line, indent=2))
    show_rows(output, table, blocks)
