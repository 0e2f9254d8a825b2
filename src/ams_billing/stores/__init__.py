"""Durable stores for the state that must outlive a process: SQLAlchemy Core over a URL.

Three kinds of state must outlive a process; these stores keep them in a database shared by
every process of an AMS, and :func:`~ams_billing.assembly.loading.load_service` uses them by
default (``AMS_BILLING_DATABASE_URL=memory:`` chooses memory instead):

- :class:`SqlIdempotencyStore`: the idempotency ledger's records;
- :class:`SqlInvoiceStateStore`: the last state the tracker saw of each invoice;
- :class:`SqlWebhookInbox`: verified webhook deliveries until their listeners were told.

:func:`open_stores` builds all three over one engine from a database URL: an SQLite file by
default (:func:`default_database_url`), PostgreSQL through psycopg 3 for many processes on many
machines. The schema is versioned with Alembic, and upgrades itself unless told not to::

    from ams_billing.stores import open_stores

    stores = open_stores()  # $AMS_BILLING_DATABASE_URL, or the SQLite default
    stores.inbox.add(delivery)

See ``docs/stores.md`` for the guarantees each database gives.
"""

from __future__ import annotations

from ams_billing.core.deprecation import moved
from ams_billing.stores.database import (
    DATABASE_URL_VARIABLE,
    create_store_engine,
    default_database_url,
)
from ams_billing.stores.idempotency import SqlIdempotencyStore
from ams_billing.stores.inbox import SqlWebhookInbox
from ams_billing.stores.invoice_state import SqlInvoiceStateStore
from ams_billing.stores.service import open_service_stores, service_database_url
from ams_billing.stores.sql_stores import SqlStores, ensure_schema, open_stores
from ams_billing.stores.versioning import (
    SchemaStatus,
    check_schema,
    head_revision,
    schema_status,
    upgrade,
)

__all__ = [
    "DATABASE_URL_VARIABLE",
    "SchemaStatus",
    "SqlIdempotencyStore",
    "SqlInvoiceStateStore",
    "SqlStores",
    "SqlWebhookInbox",
    "check_schema",
    "create_store_engine",
    "default_database_url",
    "ensure_schema",
    "head_revision",
    "open_service_stores",
    "open_stores",
    "schema_status",
    "service_database_url",
    "upgrade",
]

__getattr__ = moved(
    __name__,
    {
        "load_durable_service": "ams_billing.assembly.loading",
        "takes_idempotency_store": "ams_billing.assembly.state",
    },
)
