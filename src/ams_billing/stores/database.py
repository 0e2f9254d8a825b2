"""The stores' database: which URL, one engine per URL, and write transactions that lock.

SQLite is the embedded default (a file under the user's data directory); PostgreSQL, through
psycopg 3, serves many processes on many machines. Each engine is set up so the database, not
luck, keeps concurrent writers apart:

- **SQLite**: WAL journal (readers never wait for the writer), a busy timeout (a writer waits
  for the lock instead of failing), foreign keys on, and :func:`write_transaction` opens its
  transaction with ``BEGIN IMMEDIATE``, taking the database's writer lock before it reads;
- **PostgreSQL**: write transactions lock the rows they decide on (``SELECT ... FOR UPDATE``,
  ``SKIP LOCKED`` for the inbox), so other rows and readers go on meanwhile.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ams_billing.core.errors import ConfigurationError, FieldError
from ams_billing.core.state import DATABASE_URL_VARIABLE, MEMORY, is_memory

__all__ = [
    "DATABASE_URL_VARIABLE",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "create_store_engine",
    "default_database_url",
    "parse_database_url",
    "read_transaction",
    "shown_url",
    "write_transaction",
]

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
"""How long an SQLite connection waits for another process's writer lock before failing."""

_BEGIN_OPTION = "ams_billing_sqlite_begin"
_SUPPORTED = ("sqlite", "postgresql")


def default_database_url(environ: Mapping[str, str] | None = None) -> str:
    """``$AMS_BILLING_DATABASE_URL``, else an SQLite file in the user's data directory.

    The file is ``$XDG_DATA_HOME/ams-billing/billing.sqlite3`` (``~/.local/share`` when
    ``XDG_DATA_HOME`` is unset). An empty variable counts as unset; one of only white space is a
    :class:`~ams_billing.core.errors.ConfigurationError`. The variable's ``memory:`` (state in
    process memory) is returned as it is: no database can be opened on it
    (:func:`parse_database_url` says so).
    """
    environ = os.environ if environ is None else environ
    value = environ.get(DATABASE_URL_VARIABLE) or ""
    if value and not value.strip():
        raise ConfigurationError(
            "the stores' database is not configured",
            [
                FieldError(
                    DATABASE_URL_VARIABLE,
                    "is blank",
                    "set it to a database URL such as postgresql+psycopg://user@host/db, "
                    "or unset it for the SQLite default",
                )
            ],
        )
    if value:
        return value.strip()
    data_home = (environ.get("XDG_DATA_HOME") or "").strip()
    base = Path(data_home) if data_home else Path.home() / ".local" / "share"
    return f"sqlite:///{base / 'ams-billing' / 'billing.sqlite3'}"


def parse_database_url(url: str | URL) -> URL:
    """The SQLAlchemy URL of ``url``, with PostgreSQL pointed at psycopg 3.

    ``postgresql://`` and ``postgres://`` mean ``postgresql+psycopg://`` (the ``postgres``
    extra installs psycopg 3). Raises :class:`~ams_billing.core.errors.ConfigurationError` for
    a URL that does not parse or names a database other than SQLite and PostgreSQL, and for
    ``memory:``, which keeps state in process memory rather than in a database.
    """
    if isinstance(url, str) and is_memory(url):
        raise ConfigurationError(
            f"{MEMORY} keeps billing state in process memory: there is no database to open",
            [
                _url_problem(
                    f"is {MEMORY} (state in memory, lost with the process; nothing to share)"
                )
            ],
        )
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        shown = "(" + ("empty" if not str(url) else f"{len(str(url))} characters") + ")"
        raise ConfigurationError(
            f"the stores' database URL {shown} is not an SQLAlchemy URL",
            [_url_problem("is not a database URL")],
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in _SUPPORTED:
        raise ConfigurationError(
            f"the stores support SQLite and PostgreSQL, not {parsed.get_backend_name()!r}",
            [_url_problem(f"names {parsed.get_backend_name()!r}")],
        )
    return parsed


def _url_problem(message: str) -> FieldError:
    return FieldError(
        DATABASE_URL_VARIABLE,
        message,
        "use sqlite:////absolute/path/billing.sqlite3 or "
        "postgresql+psycopg://user:password@host:5432/database",
    )


def shown_url(url: str | URL) -> str:
    """``url`` as it may be shown: the password, if any, replaced by ``***``."""
    return make_url(url).render_as_string(hide_password=True)


def create_store_engine(url: str | URL, **engine_options: Any) -> Engine:
    """An engine for the stores, set up for its database (see the module's docstring).

    An SQLite file's directory is created if missing. ``engine_options`` go to
    :func:`sqlalchemy.create_engine`. A child process forked later starts with an empty pool
    (it never uses a connection its parent opened).
    """
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed, engine_options)
    else:
        try:
            engine = sa.create_engine(parsed, pool_pre_ping=True, **engine_options)
        except (NoSuchModuleError, ModuleNotFoundError) as error:
            raise ConfigurationError(
                f"the driver for {parsed.drivername} is not installed ({error}); "
                "install ams-billing[postgres] for psycopg 3"
            ) from None
    _forget_pool_in_children(engine)
    return engine


def _forget_pool_in_children(engine: Engine) -> None:
    # SQLAlchemy's advice for forks: the child drops the inherited pool without closing its
    # connections, which stay the parent's. Held weakly, so the engine can still be collected.
    reference = weakref.ref(engine)

    def after_fork_in_child() -> None:
        alive = reference()
        if alive is not None:
            alive.dispose(close=False)

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=after_fork_in_child)


def _sqlite_engine(url: URL, engine_options: dict[str, Any]) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    connect_args = {
        "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
        **engine_options.pop("connect_args", {}),
    }
    engine = sa.create_engine(url, connect_args=connect_args, **engine_options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN; _on_begin emits it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not in_memory:
                _use_wal(cursor)
                cursor.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints in WAL
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _use_wal(cursor: Any) -> None:
    """Put the file in WAL mode, waiting (bounded) for the other connections racing to."""
    # The mode is kept in the file, so only the first connections to a new file switch it; and
    # the switch needs a moment when no other connection is using the file, which SQLite
    # answers "database is locked" at once instead of through the busy timeout (processes
    # starting together on a new file, the default of load_service(), met it).
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(random.uniform(0.005, 0.05))  # noqa: S311 - jitter, not a secret


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that commits on success: on SQLite it holds the writer lock throughout.

    On PostgreSQL it is an ordinary READ COMMITTED transaction; callers lock the rows they
    decide on with ``FOR UPDATE``.
    """
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        with connection.begin():
            yield connection


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction for reading only (on SQLite, a WAL snapshot that never blocks writers)."""
    with engine.connect() as connection, connection.begin():
        yield connection
