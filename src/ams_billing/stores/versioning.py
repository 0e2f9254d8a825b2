"""The stores' schema revision: what a database has, what this version needs, and upgrading.

The migrations ship inside the package and run programmatically with Alembic, each upgrade in
one transaction that holds a lock (SQLite's writer lock; a transaction-scoped advisory lock on
PostgreSQL), so processes starting together upgrade once and the others find it done.
"""

from __future__ import annotations

import attrs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection, Engine

from ams_billing.core.errors import ConfigurationError
from ams_billing.stores.database import shown_url, write_transaction
from ams_billing.stores.schema import VERSION_TABLE

__all__ = [
    "SCRIPT_LOCATION",
    "SchemaStatus",
    "alembic_config",
    "check_schema",
    "head_revision",
    "schema_status",
    "upgrade",
    "upgrade_command",
]

SCRIPT_LOCATION = "ams_billing.stores:migrations"
"""Where the migrations are, as an Alembic ``package:directory`` location."""

# Any constant will do: it only has to be the same for every process upgrading one database.
_ADVISORY_LOCK = 0x616D735F62696C6C  # "ams_bill"


@attrs.frozen
class SchemaStatus:
    """A database's schema revision beside the one this version of ams-billing needs."""

    current: str | None
    head: str
    known: bool
    """False when ``current`` is a revision this version does not know (a newer one wrote it)."""

    @property
    def up_to_date(self) -> bool:
        """True when the database is at ``head``."""
        return self.current == self.head

    @property
    def behind(self) -> bool:
        """True when an upgrade would bring the database to ``head``."""
        return self.known and not self.up_to_date


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the shipped migrations, on ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this version of ams-billing ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its revisions
        raise RuntimeError(f"no migrations found at {SCRIPT_LOCATION}")
    return head


def _status(connection: Connection) -> SchemaStatus:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    current = context.get_current_revision()
    script = ScriptDirectory.from_config(alembic_config())
    known = True
    if current is not None:
        try:
            known = script.get_revision(current) is not None
        except (CommandError, RevisionError):
            known = False
    return SchemaStatus(current, head_revision(), known)


def schema_status(engine: Engine) -> SchemaStatus:
    """Where ``engine``'s database stands."""
    with engine.connect() as connection:
        return _status(connection)


def upgrade(engine: Engine, revision: str = "head") -> SchemaStatus:
    """Upgrade the database to ``revision`` (default the newest); returns the status before.

    Safe to call from many processes at once: the first upgrades, the others wait for it and
    then find nothing to do. Raises :class:`~ams_billing.core.errors.ConfigurationError` when
    the database is at a revision this version does not know (a newer ams-billing's).
    """
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})")
        before = _status(connection)
        if not before.known:
            raise _newer_schema(engine, before)
        if revision != "head" or not before.up_to_date:
            command.upgrade(alembic_config(connection), revision)
    return before


def check_schema(engine: Engine) -> SchemaStatus:
    """Raise :class:`~ams_billing.core.errors.ConfigurationError` unless the schema is at head.

    The message says exactly what to run to upgrade.
    """
    status = schema_status(engine)
    if not status.known:
        raise _newer_schema(engine, status)
    if status.behind:
        at = f"at revision {status.current}" if status.current else "empty (no ams-billing tables)"
        password = " with your password in place of ***" if engine.url.password else ""
        raise ConfigurationError(
            f"the ams-billing database {shown_url(engine.url)} is {at}; this version needs "
            f"revision {status.head}. Run `{upgrade_command(engine)}`{password} "
            "(or open the stores with upgrade=True)"
        )
    return status


def upgrade_command(engine: Engine) -> str:
    """The command line that upgrades ``engine``'s database (a password shown as ``***``)."""
    return f"ams-billing db upgrade --url '{shown_url(engine.url)}'"


def _newer_schema(engine: Engine, status: SchemaStatus) -> ConfigurationError:
    return ConfigurationError(
        f"the ams-billing database {shown_url(engine.url)} is at revision {status.current}, "
        f"which this version does not know (it knows up to {status.head}): a newer ams-billing "
        "upgraded it; install that version here too"
    )
