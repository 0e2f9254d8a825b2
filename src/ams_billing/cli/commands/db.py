"""``ams-billing db upgrade|status``: the durable stores' schema revision.

``open_stores()`` upgrades the schema itself by default; deployments that migrate in a
release step open the stores with ``upgrade=False`` and run ``ams-billing db upgrade`` first.
The database is ``--url``, else ``$AMS_BILLING_DATABASE_URL``, else the SQLite default.
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ams_billing.cli.exit_codes import ExitCode
from ams_billing.cli.output import Output, json_option
from ams_billing.core.errors import ConfigurationError
from ams_billing.stores.database import (
    DATABASE_URL_VARIABLE,
    create_store_engine,
    default_database_url,
    shown_url,
)
from ams_billing.stores.versioning import schema_status, upgrade

__all__ = ["db"]

_url_option = click.option(
    "--url",
    metavar="URL",
    help=f"The database (SQLAlchemy URL); default ${DATABASE_URL_VARIABLE}, else the SQLite file.",
)


@click.group(short_help="Upgrade the stores' database schema, or show it.")
def db() -> None:
    """The durable stores' database: upgrade its schema, or show where it stands."""


@db.command("upgrade", short_help="Upgrade the schema to the newest this version knows.")
@_url_option
@json_option
def upgrade_command(*, url: str | None, as_json: bool) -> None:
    """Upgrade the stores' schema to this version's newest revision (creating it if empty).

    Safe while other processes use the database, and when several run it at once.
    """
    output = Output(json_mode=as_json)
    engine = _engine(output, url)
    try:
        before = upgrade(engine)
        after = schema_status(engine)
    except (ConfigurationError, SQLAlchemyError) as error:
        output.fail(error)
    finally:
        engine.dispose()
    shown = shown_url(engine.url)
    output.json(_document(shown, before.current, after.current, after.head, ok=True))
    if before.current == after.current:
        output.line(f"{shown}: already at revision {after.current}")
    else:
        output.line(f"{shown}: upgraded from {before.current or 'empty'} to {after.current}")
    output.exit(ExitCode.OK)


@db.command("status", short_help="Show the schema's revision and whether it is due.")
@_url_option
@json_option
def status_command(*, url: str | None, as_json: bool) -> None:
    """Show the schema's revision; exits 1 when an upgrade is due, 3 when it is too new."""
    output = Output(json_mode=as_json)
    engine = _engine(output, url)
    try:
        status = schema_status(engine)
    except SQLAlchemyError as error:
        output.fail(error)
    finally:
        engine.dispose()
    shown = shown_url(engine.url)
    code = ExitCode.OK if status.up_to_date else ExitCode.FAILED
    if not status.known:
        code = ExitCode.CONFIGURATION
    output.json(
        _document(shown, status.current, status.current, status.head, ok=status.up_to_date)
        | {"exit_code": int(code)}
    )
    if status.up_to_date:
        output.line(f"{shown}: at revision {status.current}, up to date")
    elif status.known:
        output.line(
            f"{shown}: at revision {status.current or 'none (empty)'}, this version needs "
            f"{status.head}: run `ams-billing db upgrade`",
            "yellow",
        )
    else:
        output.line(
            f"{shown}: at revision {status.current}, newer than this version knows "
            f"({status.head}): install the newer ams-billing",
            "red",
        )
    output.exit(code)


def _engine(output: Output, url: str | None) -> Engine:
    try:
        return create_store_engine(url or default_database_url())
    except ConfigurationError as error:
        output.fail(error)


def _document(
    url: str, before: str | None, current: str | None, head: str, *, ok: bool
) -> dict[str, Any]:
    return {"ok": ok, "url": url, "before": before, "current": current, "head": head}
