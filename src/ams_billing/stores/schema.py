"""The stores' tables (SQLAlchemy Core), as of the newest schema revision.

Every table is prefixed ``ams_billing_`` so it can live in an application's own database, and
Alembic records the schema's revision in its own ``ams_billing_alembic_version`` table, apart
from the application's migrations. The migrations in :mod:`ams_billing.stores.migrations`
build exactly these tables; a test compares them.

Money is stored as exact decimal text and instants as timezone-aware UTC (``timestamptz`` on
PostgreSQL, fixed-width UTC text on SQLite, which sorts and compares correctly).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = [
    "VERSION_TABLE",
    "DecimalText",
    "UTCDateTime",
    "idempotency_records",
    "inbox_entries",
    "invoice_snapshots",
    "metadata",
]

VERSION_TABLE = "ams_billing_alembic_version"
"""Where Alembic keeps the stores' schema revision (not the application's ``alembic_version``)."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
"""The stores' tables."""


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware instant, stored and returned in UTC; naive datetimes are refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC (without tzinfo on SQLite, which stores text)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a naive datetime cannot be stored exactly: {value.isoformat()}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """The stored instant, in UTC."""
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - every dialect parses it
            value = datetime.fromisoformat(str(value))
        instant: datetime = value
        return instant.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DecimalText(sa.TypeDecorator[Decimal]):
    """An exact :class:`~decimal.Decimal`, stored as its text (``"120.10"`` stays so)."""

    impl = sa.String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        """The decimal's exact text."""
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"not a finite Decimal: {value!r}")
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """The decimal the text spells."""
        return None if value is None else Decimal(value)


idempotency_records = sa.Table(
    "ams_billing_idempotency_records",
    metadata,
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("operation", sa.Text(), nullable=False),
    sa.Column("fingerprint", sa.Text(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("result", sa.Text(), nullable=True),
    sa.Column("detail", sa.Text(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
"""One row per idempotency key (:class:`~ams_billing.providers.xero.ledger.IdempotencyRecord`)."""

invoice_snapshots = sa.Table(
    "ams_billing_invoice_snapshots",
    metadata,
    sa.Column("invoice_id", sa.Text(), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("amount_paid", DecimalText(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("stored_at", UTCDateTime(), nullable=False),
)
"""The last state the tracker saw of each invoice (an ``InvoiceSnapshot``)."""

inbox_entries = sa.Table(
    "ams_billing_inbox_entries",
    metadata,
    # The claim order: insertion order, which a timestamp cannot give when two deliveries
    # arrive within one clock tick.
    sa.Column(
        "position",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("entry_id", sa.String(32), nullable=False, unique=True),
    sa.Column("delivery", sa.Text(), nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("leased_until", UTCDateTime(), nullable=True),
    sa.Column("done", sa.Boolean(), nullable=False, server_default=sa.false()),
    # Revision 0002:
    sa.Column("completed_at", UTCDateTime(), nullable=True),
    sa.Index("ix_ams_billing_inbox_entries_claim", "done", "position"),
)
"""Verified webhook deliveries awaiting (or done with) processing, and their leases."""
