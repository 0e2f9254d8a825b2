"""The SQL stores as a billing service's state: what survives a restart, survives.

:func:`~ams_billing.assembly.loading.load_service` keeps its state here by default: it opens the
stores with :func:`open_service_stores` (``AMS_BILLING_DATABASE_URL``, else the SQLite file)
and gives the tracker :attr:`SqlStores.invoice_state`, a provider that takes an
``idempotency_store`` (the Xero provider does) :attr:`SqlStores.idempotency`, and the service
:attr:`SqlStores.inbox`, which ``BackgroundProcessor(service)`` and ``drain_inbox`` use.
:func:`~ams_billing.assembly.loading.load_durable_service` does the same over stores the caller
opened and keeps.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sqlalchemy.exc import SQLAlchemyError

from ams_billing.core.deprecation import moved
from ams_billing.core.env import Environment
from ams_billing.core.errors import ConfigurationError, FieldError
from ams_billing.core.state import DATABASE_URL_VARIABLE
from ams_billing.stores.database import default_database_url, parse_database_url, shown_url
from ams_billing.stores.sql_stores import SqlStores, open_stores

__all__ = ["open_service_stores", "service_database_url"]

__getattr__ = moved(
    __name__,
    {
        "load_durable_service": "ams_billing.assembly.loading",
        "takes_idempotency_store": "ams_billing.assembly.state",
    },
)

_FIX = (
    "check the database (is it up, may this user create tables?), set "
    f"{DATABASE_URL_VARIABLE} to another, or to memory: for state that dies with the process"
)


def service_database_url(environ: Environment | Mapping[str, str]) -> str:
    """The database a service built from ``environ`` keeps its state in (or ``memory:``).

    ``environ``'s ``AMS_BILLING_DATABASE_URL``, else the SQLite file under ``XDG_DATA_HOME``:
    ``environ``'s, else the process's (``~/.local/share`` when neither says). The data
    directory belongs to the process's user, not to the billing configuration: an ``environ``
    that does not name one (an env file's, a test's, a settings module's) means the process's.
    """
    source = Environment.of(environ)
    del environ  # only the two variables read below stay in this frame
    return default_database_url(
        {
            DATABASE_URL_VARIABLE: source.get(DATABASE_URL_VARIABLE) or "",
            "XDG_DATA_HOME": source.get("XDG_DATA_HOME") or os.environ.get("XDG_DATA_HOME") or "",
        }
    )


def open_service_stores(url: str | None, environ: Environment | Mapping[str, str]) -> SqlStores:
    """Open the stores a service keeps its state in, schema upgraded: ``url``, else the default.

    The default is :func:`service_database_url` of ``environ``. Every failure is a
    :class:`~ams_billing.core.errors.ConfigurationError` naming the database without its
    password. The pool is emptied before returning, so a process that forks after loading
    (gunicorn's ``--preload``) hands no open connection to its children.
    """
    chosen = url or service_database_url(environ)
    del environ
    shown = shown_url(parse_database_url(chosen))
    try:
        stores = open_stores(chosen)
    except ConfigurationError as error:
        if error.errors:
            raise
        raise ConfigurationError(
            "the stores' database cannot be used:", [FieldError(DATABASE_URL_VARIABLE, str(error))]
        ) from None
    except SQLAlchemyError as error:
        # The driver's message can quote the connection string; its type is enough to act on.
        raise ConfigurationError(
            "the stores' database cannot be opened:",
            [
                FieldError(
                    DATABASE_URL_VARIABLE, f"{shown} failed with {type(error).__name__}", _FIX
                )
            ],
        ) from None
    stores.engine.dispose()
    return stores
