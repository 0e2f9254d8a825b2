"""Schema versions: a database made by the first revision, with data in it, upgrades to head."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from stores_helpers import START, delivery

from ams_billing.core.convert import unstructure
from ams_billing.core.errors import ConfigurationError
from ams_billing.core.models import InvoiceStatus
from ams_billing.core.tracking import InvoiceSnapshot
from ams_billing.providers.xero.ledger import IdempotencyRecord, RecordState
from ams_billing.stores import (
    check_schema,
    create_store_engine,
    head_revision,
    open_stores,
    schema_status,
    upgrade,
)
from ams_billing.stores.schema import VERSION_TABLE, DecimalText, UTCDateTime, metadata

# The tables as revision 0001 had them (lightweight constructs: only what is inserted here).
_RECORDS_0001 = sa.table(
    "ams_billing_idempotency_records",
    *(sa.column(name) for name in ("key", "operation", "fingerprint", "state", "result")),
    sa.column("updated_at", UTCDateTime()),
)
_SNAPSHOTS_0001 = sa.table(
    "ams_billing_invoice_snapshots",
    sa.column("invoice_id"),
    sa.column("status"),
    sa.column("amount_paid", DecimalText()),
    sa.column("updated_at", UTCDateTime()),
    sa.column("stored_at", UTCDateTime()),
)
_ENTRIES_0001 = sa.table(
    "ams_billing_inbox_entries",
    sa.column("entry_id"),
    sa.column("delivery"),
    sa.column("received_at", UTCDateTime()),
    sa.column("attempts"),
    sa.column("done", sa.Boolean()),
)


def _first_revision_with_data(url: str) -> None:
    """What ams-billing at revision 0001 left: a record, a snapshot, a pending and a done entry."""
    engine = create_store_engine(url)
    try:
        upgrade(engine, "0001")
        payload = json.dumps(unstructure(delivery(1)))
        with engine.begin() as connection:
            connection.execute(
                sa.insert(_RECORDS_0001).values(
                    key="k1", operation="create_invoice", fingerprint="fp", state="done",
                    result="inv-1", updated_at=START,
                )
            )  # fmt: skip
            connection.execute(
                sa.insert(_SNAPSHOTS_0001).values(
                    invoice_id="inv-1", status="AUTHORISED", amount_paid=Decimal("60.10"),
                    updated_at=START, stored_at=START,
                )
            )  # fmt: skip
            for entry_id, done in (("e-done", True), ("e-waiting", False)):
                connection.execute(
                    sa.insert(_ENTRIES_0001).values(
                        entry_id=entry_id, delivery=payload, received_at=START, attempts=1,
                        done=done,
                    )
                )  # fmt: skip
        assert schema_status(engine).current == "0001"
    finally:
        engine.dispose()


def test_a_database_at_the_first_revision_upgrades_to_head_keeping_its_data(
    database_url: str,
) -> None:
    _first_revision_with_data(database_url)
    with pytest.raises(ConfigurationError, match=r"ams-billing db upgrade --url") as raised:
        open_stores(database_url, upgrade=False)
    assert "at revision 0001" in str(raised.value)
    assert f"needs revision {head_revision()}" in str(raised.value)

    with open_stores(database_url) as stores:
        assert schema_status(stores.engine).current == head_revision() == "0003"
        record = IdempotencyRecord("create_invoice", "fp", RecordState.DONE, "inv-1")
        assert stores.idempotency.get("k1") == record
        # Stored under Xero's name before the statuses were neutral: it reads as the new one.
        snapshot = InvoiceSnapshot(InvoiceStatus.OPEN, Decimal("60.10"), START)
        assert stores.invoice_state.get("inv-1") == snapshot
        # Revision 0003 widened the column for the longest neutral name.
        awaiting = InvoiceSnapshot(InvoiceStatus.AWAITING_APPROVAL, Decimal(0), START)
        stores.invoice_state.put_if_newer("inv-2", awaiting)
        assert stores.invoice_state.get("inv-2") == awaiting
        assert stores.inbox.pending() == 1
        (entry,) = stores.inbox.claim(10, 30)
        assert (entry.entry_id, entry.attempts, entry.delivery) == ("e-waiting", 1, delivery(1))
        stores.inbox.complete([entry.entry_id])
        # Revision 0002's completion time: the entry done before it has none, and stays.
        assert stores.inbox.purge_completed(START) == 0
        later = datetime.now(UTC) + timedelta(seconds=1)
        assert stores.inbox.purge_completed(later) == 1
        with stores.engine.connect() as connection:
            left = connection.execute(sa.text("SELECT entry_id FROM ams_billing_inbox_entries"))
            assert [row[0] for row in left] == ["e-done"]
        indexes = sa.inspect(stores.engine).get_indexes("ams_billing_inbox_entries")
        assert "ix_ams_billing_inbox_entries_claim" in {index["name"] for index in indexes}


def test_the_migrations_build_exactly_the_tables_the_stores_use(database_url: str) -> None:
    with open_stores(database_url) as stores, stores.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, metadata) == []


def test_an_empty_database_is_created_or_refused_with_what_to_run(database_url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"empty .*Run `ams-billing db upgrade --url '"):
        open_stores(database_url, upgrade=False)
    if database_url.startswith("postgresql"):
        with pytest.raises(ConfigurationError, match=r"with your password in place of \*\*\*"):
            open_stores(database_url, upgrade=False)
    with open_stores(database_url) as stores:
        assert check_schema(stores.engine).up_to_date
    open_stores(database_url, upgrade=False).close()  # at head: nothing to do


def test_a_schema_newer_than_this_version_is_refused_either_way(database_url: str) -> None:
    open_stores(database_url).close()
    engine = create_store_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '0999'"))
    finally:
        engine.dispose()
    for upgrading in (True, False):
        with pytest.raises(ConfigurationError, match="0999, which this version does not know"):
            open_stores(database_url, upgrade=upgrading)
