"""One key, several processes at once: the store's lock makes one invoice and one answer.

4 spawned processes create the same invoice under the same key through ``XeroProvider``
over one shared SQL store, against one emulator served on loopback whose ``Idempotency-Key``
memory is off (retention 0), so only our lock can keep them apart. The first create's response
is held a moment, so the race window is certain. The control hides the store's lock: then the
same race bills more than once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import attrs
import pytest
from keylock_helpers import create_same_invoice
from stores_helpers import PARTIES, RacePool

from ams_billing.core.errors import ProviderUnavailableError
from ams_billing.core.keylocks import FILE_LOCK_BUCKETS, key_lock_id
from ams_billing.core.ledger import KeyLockingStore
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorServer,
    XeroEmulator,
)
from ams_billing.emulators.xero.driver import contract_config
from ams_billing.emulators.xero.harness import emulator_settings
from ams_billing.stores import SqlIdempotencyStore, create_store_engine, open_stores
from lock_helpers import in_another_thread

HOLD_SECONDS = 2.0


@pytest.fixture
def emulator() -> Iterator[tuple[XeroEmulator, str]]:
    """An emulator on loopback that never replays an ``Idempotency-Key`` (retention 0)."""
    config = attrs.evolve(contract_config(), idempotency_retention=0.0)
    emulator = XeroEmulator(config, clock=EmulatorClock.virtual())
    with EmulatorServer(emulator) as server:
        yield emulator, server.base_url


def race(
    database_url: str, race_pool: RacePool, emulator: tuple[XeroEmulator, str], *, locking: bool
) -> tuple[list[str], list[str]]:
    """The answers of the 4 processes, and the ids of the invoices in the emulator's books."""
    xero, base_url = emulator
    open_stores(database_url).close()  # the schema
    settings = emulator_settings(xero, base_url)
    key, reference = f"invoice:{uuid.uuid4()}", f"RACE-{uuid.uuid4().hex[:12]}"
    hold = xero.hold_responses("PUT", r"/Invoices/?$", count=1, timeout=HOLD_SECONDS)
    try:
        answers = race_pool.run(
            create_same_invoice, [(database_url, settings, key, reference, locking)] * PARTIES
        )
    finally:
        hold.release()
    invoices = [
        invoice["InvoiceID"]
        for invoice in xero.books().invoices
        if invoice.get("Reference") == reference
    ]
    return answers, invoices


def test_four_processes_creating_one_key_at_once_make_one_invoice_and_one_answer(
    database_url: str, race_pool: RacePool, emulator: tuple[XeroEmulator, str]
) -> None:
    answers, invoices = race(database_url, race_pool, emulator, locking=True)
    assert len(invoices) == 1
    assert answers == invoices * PARTIES


def test_without_the_stores_lock_the_same_race_bills_more_than_once(
    database_url: str, race_pool: RacePool, emulator: tuple[XeroEmulator, str]
) -> None:
    # Most races bill 4 times; a process that reads the ledger late finds the first one's
    # pending record and looks the invoice up, so a race may bill fewer. Up to 3 races.
    outcomes = []
    for _ in range(3):
        answers, invoices = race(database_url, race_pool, emulator, locking=False)
        outcomes.append((len(invoices), len(set(answers))))
        if len(invoices) > 1:
            break
    assert outcomes[-1][0] > 1, outcomes
    assert outcomes[-1][1] > 1, outcomes


# -- the lock itself -----------------------------------------------------------------------


def other_bucket(key: str) -> str:
    """A key whose lock file is not ``key``'s (so that it cannot wait on it)."""
    bucket = key_lock_id(key) % FILE_LOCK_BUCKETS
    return next(
        f"other:{n}"
        for n in range(10_000)
        if key_lock_id(f"other:{n}") % FILE_LOCK_BUCKETS != bucket
    )


@pytest.fixture
def locking_store(database_url: str) -> Iterator[SqlIdempotencyStore]:
    engine = create_store_engine(database_url)
    try:
        yield SqlIdempotencyStore(engine, lock_timeout=0.3)
    finally:
        engine.dispose()


def test_a_held_key_times_out_with_a_retryable_error_then_frees(
    locking_store: SqlIdempotencyStore,
) -> None:
    assert isinstance(locking_store, KeyLockingStore)
    with locking_store.lock("invoice:7"):
        error = in_another_thread(locking_store, "invoice:7")
        assert isinstance(error, ProviderUnavailableError)
        assert error.retryable
        assert "invoice:7" not in str(error)  # a key may hold a member id
        assert "retry later with the same key" in str(error)
        assert in_another_thread(locking_store, other_bucket("invoice:7")) is None
    assert in_another_thread(locking_store, "invoice:7") is None


def test_a_thread_retakes_its_own_keys_without_waiting(
    locking_store: SqlIdempotencyStore,
) -> None:
    key = "invoice:8"
    with locking_store.lock(key), locking_store.lock(key, other_bucket(key), key):
        assert isinstance(in_another_thread(locking_store, key), ProviderUnavailableError)
    assert in_another_thread(locking_store, key, other_bucket(key)) is None


def test_an_sqlite_database_in_memory_needs_no_lock() -> None:
    engine = create_store_engine("sqlite://")
    try:
        store = SqlIdempotencyStore(engine, lock_timeout=0.3)
        with store.lock("invoice:9"):
            assert in_another_thread(store, "invoice:9") is None
    finally:
        engine.dispose()
