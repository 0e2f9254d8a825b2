"""The check of where billing state is kept: which database, its schema, and whether it fits.

State that must survive a restart (the idempotency ledger, invoice states, the webhook inbox)
lives in the stores' database (``AMS_BILLING_DATABASE_URL``, else an SQLite file). SQLite
serves one machine's processes; a deployment of several web workers or machines wants
PostgreSQL. ``WEB_CONCURRENCY`` (gunicorn's and most platforms' worker count) or
``AMS_BILLING_PROCESSES`` above 1 with SQLite is a warning. ``memory:`` (state in process
memory, lost on restart) is always a warning.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ams_billing.assembly.loading import declared_processes
from ams_billing.cli.checks.model import CheckResult, CheckStatus
from ams_billing.cli.checks.runner import CheckState
from ams_billing.cli.exit_codes import ExitCode
from ams_billing.core.errors import ConfigurationError
from ams_billing.core.state import MEMORY, is_memory
from ams_billing.stores.database import (
    DATABASE_URL_VARIABLE,
    create_store_engine,
    shown_url,
)
from ams_billing.stores.service import service_database_url
from ams_billing.stores.versioning import schema_status

__all__ = ["check_stores"]

_ID, _TITLE = "stores", "stores"


def check_stores(state: CheckState) -> CheckResult:
    """The stores' database answers, its schema is current, and it suits the deployment."""
    try:
        url = service_database_url(state.environ)
        if is_memory(url):
            return _in_memory(declared_processes(state.environ))
        engine = create_store_engine(url)
    except ConfigurationError as error:
        return CheckResult(
            _ID, _TITLE, CheckStatus.FAIL, str(error), exit_code=ExitCode.CONFIGURATION
        )
    shown = shown_url(url)
    dialect = engine.dialect.name
    database = make_url(url).database or ""
    if dialect == "sqlite" and database and not Path(database).exists():
        engine.dispose()  # a check creates nothing: the file is made on first use
        status_text = "an SQLite file created on first use"
    else:
        try:
            status = schema_status(engine)
        except SQLAlchemyError as error:
            return CheckResult(
                _ID,
                _TITLE,
                CheckStatus.FAIL,
                f"the stores' database {shown} cannot be reached ({type(error).__name__})",
                fix=f"check {DATABASE_URL_VARIABLE}, or that the database server is up",
            )
        finally:
            engine.dispose()
        if not status.known:
            return CheckResult(
                _ID,
                _TITLE,
                CheckStatus.FAIL,
                f"{shown} has schema {status.current}, newer than this ams-billing knows",
                fix="upgrade ams-billing to the version that wrote it",
                exit_code=ExitCode.CONFIGURATION,
            )
        if status.current is None:
            status_text = "empty: its tables are created on first use"
        elif status.behind:
            status_text = f"schema {status.current}, upgraded to {status.head} on first use"
        else:
            status_text = f"schema {status.current}, current"
    detail = f"billing state is kept in {shown} ({status_text})"
    processes = declared_processes(state.environ)
    if dialect == "sqlite" and processes > 1:
        return CheckResult(
            _ID,
            _TITLE,
            CheckStatus.WARN,
            f"{detail}; {processes} processes are declared, and SQLite serves one machine",
            fix=f"for several machines, set {DATABASE_URL_VARIABLE}=postgresql+psycopg://...",
        )
    return CheckResult(_ID, _TITLE, CheckStatus.PASS, detail)


def _in_memory(processes: int) -> CheckResult:
    shared = (
        f"; {processes} processes are declared, and each keeps its own" if processes > 1 else ""
    )
    return CheckResult(
        _ID,
        _TITLE,
        CheckStatus.WARN,
        f"billing state is kept in process memory ({DATABASE_URL_VARIABLE}={MEMORY}): lost on "
        "every restart, so a retry after one can bill twice and an acknowledged webhook can be "
        f"lost{shared}",
        fix=f"unset {DATABASE_URL_VARIABLE} for the SQLite file, or set it to "
        "postgresql+psycopg://... for several processes or machines",
    )
