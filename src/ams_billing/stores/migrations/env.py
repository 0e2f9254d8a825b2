"""Alembic's environment for the stores: always on the connection the caller passes in.

:func:`ams_billing.stores.versioning.upgrade` opens a write transaction (the writer lock on
SQLite, an advisory lock on PostgreSQL) and hands its connection over in
``config.attributes["connection"]``; the migrations run inside that transaction.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from ams_billing.stores.schema import VERSION_TABLE, metadata


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "the ams-billing migrations run through ams_billing.stores.versioning "
            "(or `ams-billing db upgrade`), which passes them a connection"
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        transactional_ddl=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_run()
