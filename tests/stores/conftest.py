"""Databases for the store tests: an SQLite file, and a real PostgreSQL on loopback.

PostgreSQL is a throwaway cluster started once per test session (once per xdist worker) by
tests/postgres_cluster.py, stopped at the end; every test gets a database of its own
(``CREATE DATABASE test_<uuid>``), dropped after it. Without Debian's postgresql the PostgreSQL
cases skip, except under CI=true, where they fail: CI installs it (.ci/run).
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psycopg
import pytest
from stores_helpers import PARTIES, Backend, FakeClock, RacePool, init_worker

from ams_billing.core.inbox import InMemoryWebhookInbox
from ams_billing.core.tracking import InMemoryInvoiceStateStore
from ams_billing.providers.xero.ledger import InMemoryIdempotencyStore
from ams_billing.stores import open_stores
from postgres_cluster import throwaway_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """``postgresql+psycopg://ams:ams@127.0.0.1:PORT`` of a fresh cluster (no database)."""
    with throwaway_postgres("store tests") as port:
        yield f"postgresql+psycopg://ams:ams@127.0.0.1:{port}"


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty database on the session's cluster, dropped after the test."""
    name = f"test_{uuid.uuid4().hex}"
    admin = postgres_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{postgres_server}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A new SQLite file of this test's own."""
    return f"sqlite:///{tmp_path / 'billing.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database of this test's own, on each database the stores support."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Backend]:
    """The three stores: the in-memory references, or the SQL ones on a fresh database."""
    if request.param == "memory":
        yield Backend(
            "memory",
            InMemoryIdempotencyStore(),
            InMemoryInvoiceStateStore(),
            InMemoryWebhookInbox(now=clock),
            clock,
        )
        return
    url: str = request.getfixturevalue(f"{request.param}_url")
    with open_stores(url, now=clock) as stores:
        yield Backend(request.param, stores.idempotency, stores.invoice_state, stores.inbox, clock)


@pytest.fixture
def reference() -> Callable[[], Backend]:
    """Builds a fresh in-memory backend on its own clock (the behaviour to match)."""

    def build() -> Backend:
        own = FakeClock()
        return Backend(
            "memory",
            InMemoryIdempotencyStore(),
            InMemoryInvoiceStateStore(),
            InMemoryWebhookInbox(now=own),
            own,
        )

    return build


@pytest.fixture(scope="session")
def race_pool() -> Iterator[RacePool]:
    """4 spawned worker processes sharing a barrier, kept for the session (see stores_helpers)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PARTIES)
    pool = ProcessPoolExecutor(
        PARTIES, mp_context=context, initializer=init_worker, initargs=(barrier,)
    )
    try:
        yield RacePool(pool, barrier)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
