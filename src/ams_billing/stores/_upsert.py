"""``INSERT ... ON CONFLICT`` for the two databases the stores support."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_or_ignore(connection: Connection, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert ``values`` unless the primary key is taken; True when the row was inserted.

    On PostgreSQL a concurrent uncommitted insert of the same key makes this wait for it.
    """
    keys = list(table.primary_key.columns)
    statement = _insert(connection, table).values(**values).on_conflict_do_nothing()
    return connection.execute(statement.returning(*keys)).first() is not None


def upsert(connection: Connection, table: sa.Table, values: dict[str, Any]) -> None:
    """Insert ``values``, or replace the row with the same primary key, in one statement."""
    keys = {column.name for column in table.primary_key.columns}
    insert = _insert(connection, table).values(**values)
    statement = insert.on_conflict_do_update(
        index_elements=sorted(keys),
        set_={name: insert.excluded[name] for name in values if name not in keys},
    )
    connection.execute(statement)


def _insert(connection: Connection, table: sa.Table) -> Any:
    module = postgresql if connection.dialect.name == "postgresql" else sqlite
    return module.insert(table)
