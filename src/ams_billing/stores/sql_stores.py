"""One database, three stores: :class:`SqlStores` and :func:`open_stores`."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import URL, Engine

from ams_billing.stores import versioning
from ams_billing.stores._clock import Clock
from ams_billing.stores.database import create_store_engine, default_database_url
from ams_billing.stores.idempotency import SqlIdempotencyStore
from ams_billing.stores.inbox import SqlWebhookInbox
from ams_billing.stores.invoice_state import SqlInvoiceStateStore

__all__ = ["SqlStores", "ensure_schema", "open_stores"]


class SqlStores:
    """The three durable stores over one engine (one connection pool), which it owns.

    Build it with :func:`open_stores`, or from an engine whose schema is at head. ``now`` is
    the clock for leases and timestamps (tests inject one). Close it (or use it as a context
    manager) to release the pool; a process that forks must build its own after the fork.
    """

    def __init__(self, engine: Engine, *, now: Clock | None = None) -> None:
        self.engine = engine
        self.idempotency = SqlIdempotencyStore(engine, now=now)
        """The idempotency ledger's records (an ``IdempotencyStore``)."""
        self.invoice_state = SqlInvoiceStateStore(engine, now=now)
        """The tracker's last-seen invoice states (an ``InvoiceStateStore``)."""
        self.inbox = SqlWebhookInbox(engine, now=now)
        """Verified webhook deliveries awaiting processing (a ``WebhookInbox``)."""

    @classmethod
    def from_url(
        cls, url: str | URL | None = None, *, upgrade: bool = True, now: Clock | None = None
    ) -> SqlStores:
        """The stores on ``url``; the same as :func:`open_stores`."""
        return open_stores(url, upgrade=upgrade, now=now)

    def __repr__(self) -> str:
        return f"<SqlStores {self.engine.url.render_as_string(hide_password=True)}>"

    def __enter__(self) -> SqlStores:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()


def open_stores(
    url: str | URL | None = None, *, upgrade: bool = True, now: Clock | None = None
) -> SqlStores:
    """Open the stores on ``url`` (default :func:`default_database_url`), schema at head.

    With ``upgrade`` (the default) an older or empty schema is upgraded first, once even when
    many processes open the stores together. With ``upgrade=False`` a schema behind raises
    :class:`~ams_billing.core.errors.ConfigurationError` saying what to run
    (``ams-billing db upgrade --url ...``): for deployments that migrate in a release step.
    A schema newer than this version knows raises it either way.
    """
    engine = create_store_engine(url if url is not None else default_database_url())
    try:
        ensure_schema(engine, upgrade=upgrade)
    except BaseException:
        engine.dispose()
        raise
    return SqlStores(engine, now=now)


def ensure_schema(engine: Engine, *, upgrade: bool = True) -> versioning.SchemaStatus:
    """Bring ``engine``'s schema to head (``upgrade``) or check that it is there."""
    if upgrade:
        versioning.upgrade(engine)
    return versioning.check_schema(engine)
