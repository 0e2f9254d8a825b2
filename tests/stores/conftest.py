"""Databases for the store tests: an SQLite file, and a real PostgreSQL on loopback.

PostgreSQL is a throwaway cluster started once per test session (once per xdist worker) by the
AMS tests' postgres.sh, stopped at the end; every test gets a database of its own
(``CREATE DATABASE test_<uuid>``), dropped after it. Without Debian's postgresql the PostgreSQL
cases skip, except under CI=true, where they fail: CI installs it (.ci/run).
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import shutil
import subprocess
import tempfile
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

TESTS = Path(__file__).resolve().parents[1]
# The AMS's cluster script; main moves tests/ams to tests/in_ams (a folder named "ams" on
# sys.path is a namespace package "ams"), so look in both.
POSTGRES_SH = next(
    (path for path in (TESTS / "in_ams" / "postgres.sh", TESTS / "ams" / "postgres.sh")
     if path.is_file()),
    TESTS / "ams" / "postgres.sh",
)  # fmt: skip


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """``postgresql+psycopg://ams:ams@127.0.0.1:PORT`` of a fresh cluster (no database)."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        reason = "PostgreSQL is not installed (apt-get install postgresql); CI installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}, yet it is missing under CI=true")
        pytest.skip(reason)
    # Not under pytest's tmp dirs: those are private to root, and the server runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="ams-billing-stores-pg-"))
    try:
        started = subprocess.run(
            ["bash", str(POSTGRES_SH), "start", str(directory)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if started.returncode != 0:
            pytest.fail(f"postgres.sh start failed ({started.returncode}): {started.stderr}")
        port = (directory / "port").read_text().strip()
        yield f"postgresql+psycopg://ams:ams@127.0.0.1:{port}"
    finally:
        subprocess.run(
            ["bash", str(POSTGRES_SH), "stop", str(directory)],
            capture_output=True,
            timeout=120,
            check=False,
        )
        shutil.rmtree(directory, ignore_errors=True)


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
