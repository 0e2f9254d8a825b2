"""``load_service()`` keeps billing state in the durable stores by default; memory only on request.

The conftest points ``XDG_DATA_HOME`` at the test's own folder, so "the default" here is
``<tmp>/xdg-data/ams-billing/billing.sqlite3``: exactly the path an operator's process gets
under its own data directory.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from stores_helpers import PARTIES, RacePool, load_at_once, open_at_once

from ams_billing import (
    ConfigurationError,
    InMemoryInvoiceStateStore,
    InvoiceRequest,
    load_durable_service,
    load_service,
)
from ams_billing.core.inbox import InMemoryWebhookInbox
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    EmulatorServer,
    XeroEmulator,
    provider_environment,
    serve_emulator,
)
from ams_billing.providers.xero.ledger import InMemoryIdempotencyStore
from ams_billing.stores import (
    SqlIdempotencyStore,
    SqlInvoiceStateStore,
    SqlStores,
    SqlWebhookInbox,
    default_database_url,
    head_revision,
    open_stores,
)

FAKE = {"AMS_BILLING_SERVICE_CLASS": "fake"}
WORKER = Path(__file__).with_name("restart_worker.py")


def default_file() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "ams-billing" / "billing.sqlite3"


def xero_environment() -> dict[str, str]:
    """The Xero provider's variables, no database named (no server: building calls nobody)."""
    return provider_environment(EmulatorConfig(), "http://127.0.0.1:9", database_url=None)


def test_tests_keep_the_default_database_in_a_folder_of_their_own(tmp_path: Path) -> None:
    assert (
        default_database_url() == f"sqlite:///{tmp_path / 'xdg-data/ams-billing/billing.sqlite3'}"
    )


def test_by_default_the_state_is_in_the_sqlite_file_in_the_users_data_directory() -> None:
    with load_service(environ=FAKE) as billing:
        assert isinstance(billing.state_store, SqlInvoiceStateStore)
        assert isinstance(billing.inbox, SqlWebhookInbox)
        assert billing.inbox.engine is billing.state_store.engine
        assert billing.state_store.engine.url.database == str(default_file())
    assert default_file().is_file()


def test_the_xero_provider_gets_the_databases_idempotency_ledger() -> None:
    with load_service(environ=xero_environment()) as billing:
        ledger = billing.provider.ledger  # type: ignore[attr-defined]
        assert isinstance(ledger, SqlIdempotencyStore)
        assert ledger.engine is billing.state_store.engine  # type: ignore[attr-defined]


def test_invoice_states_outlive_the_service(invoice_request: InvoiceRequest) -> None:
    with load_service(environ=FAKE) as first:
        invoice = first.create_invoice(invoice_request, idempotency_key="i-1")
        seen = first.state_store.get(invoice.provider_id)
    assert seen is not None
    with load_service(environ=FAKE) as second:  # a new service, as after a restart
        assert second.state_store.get(invoice.provider_id) == seen


def test_the_variable_names_another_database(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "billing.sqlite3"
    environ = {**FAKE, "AMS_BILLING_DATABASE_URL": f"sqlite:///{other}"}
    with load_service(environ=environ) as billing:
        assert billing.state_store.engine.url.database == str(other)  # type: ignore[attr-defined]
    assert other.is_file()
    assert not default_file().exists()


@pytest.mark.parametrize(
    ("environ", "options"),
    [
        ({**FAKE, "AMS_BILLING_DATABASE_URL": "memory:"}, {}),
        (FAKE, {"stores": "memory:"}),
        (FAKE, {"stores": "memory"}),
        ({**xero_environment(), "AMS_BILLING_DATABASE_URL": " MEMORY: "}, {}),
    ],
    ids=["variable", "keyword", "keyword-without-colon", "xero-variable"],
)
def test_memory_only_when_chosen(environ: dict[str, str], options: dict[str, str]) -> None:
    with load_service(environ=environ, **options) as billing:  # type: ignore[arg-type]
        assert isinstance(billing.state_store, InMemoryInvoiceStateStore)
        assert isinstance(billing.inbox, InMemoryWebhookInbox)
        ledger = getattr(billing.provider, "ledger", None)
        assert ledger is None or isinstance(ledger, InMemoryIdempotencyStore)
    assert not default_file().parent.exists()


@pytest.mark.parametrize(
    "code",
    [
        "load_service('fake', stores='memory:')",
        "load_service('xero', environ={**ENV, 'AMS_BILLING_DATABASE_URL': 'memory:'})",
    ],
)
def test_memory_loads_no_sqlalchemy(code: str) -> None:
    probe = (
        "import sys\n"
        "from ams_billing import load_service\n"
        f"ENV = {xero_environment()!r}\n"
        f"{code}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"


def test_an_emulators_environment_keeps_the_state_with_the_emulator() -> None:
    # A fresh emulator has empty books; a ledger in the default database would replay the ids
    # of emulators that are gone. Its environment chooses memory unless told otherwise.
    environ = provider_environment(EmulatorConfig(), "http://127.0.0.1:9")
    assert environ["AMS_BILLING_DATABASE_URL"] == "memory:"
    with load_service(environ=environ) as billing:
        assert isinstance(billing.provider.ledger, InMemoryIdempotencyStore)  # type: ignore[attr-defined]
    assert not default_file().parent.exists()


def test_explicit_stores_replace_their_kind_and_open_no_database_when_all_are_given() -> None:
    state, inbox, ledger = InMemoryInvoiceStateStore(), InMemoryWebhookInbox(), object()
    with load_service(
        environ=xero_environment(), state_store=state, inbox=inbox, idempotency_store=ledger
    ) as billing:
        assert billing.state_store is state
        assert billing.inbox is inbox
        assert billing.provider.ledger is ledger  # type: ignore[attr-defined]
    assert not default_file().parent.exists()


def test_what_is_not_given_still_goes_to_the_database() -> None:
    state = InMemoryInvoiceStateStore()
    with load_service(environ=xero_environment(), state_store=state) as billing:
        assert billing.state_store is state
        assert isinstance(billing.inbox, SqlWebhookInbox)
        assert isinstance(billing.provider.ledger, SqlIdempotencyStore)  # type: ignore[attr-defined]


def test_stores_opened_by_the_caller_are_used_as_they_are(tmp_path: Path) -> None:
    with open_stores(f"sqlite:///{tmp_path / 'own.sqlite3'}") as stores:
        billing = load_service(environ=xero_environment(), stores=stores)
        durable = load_durable_service(stores, environ=xero_environment())
        for service in (billing, durable):
            assert service.state_store is stores.invoice_state
            assert service.inbox is stores.inbox
            assert service.provider.ledger is stores.idempotency  # type: ignore[attr-defined]
            service.close()
        assert stores.inbox.pending() == 0  # the caller's stores still work after that


def test_a_url_as_stores_opens_that_database(tmp_path: Path) -> None:
    target = tmp_path / "chosen.sqlite3"
    with load_service(environ=FAKE, stores=f"sqlite:///{target}") as billing:
        assert isinstance(billing.inbox, SqlWebhookInbox)
    assert target.is_file()


def test_an_unusable_database_is_a_configuration_error_without_its_password() -> None:
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    url = "postgresql+psycopg://billing:s3cret-pw@127.0.0.1:9/ams"
    with pytest.raises(ConfigurationError) as raised:
        load_service(environ={**FAKE, "AMS_BILLING_DATABASE_URL": url})
    message = str(raised.value)
    assert "AMS_BILLING_DATABASE_URL" in message
    assert "billing:***@127.0.0.1:9/ams" in message
    assert "s3cret-pw" not in message
    assert raised.value.__cause__ is None


def test_a_wrong_url_is_reported_with_the_providers_problems() -> None:
    environ = {**xero_environment(), "XERO_CLIENT_ID": "", "AMS_BILLING_DATABASE_URL": "mysql://x"}
    with pytest.raises(ConfigurationError) as raised:
        load_service(environ=environ)
    fields = {error.field for error in raised.value.errors}
    assert {"AMS_BILLING_DATABASE_URL", "XERO_CLIENT_ID"} <= fields


def test_the_log_names_the_store_and_warns_when_many_processes_share_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def said(**options: object) -> tuple[str, str]:
        caplog.clear()
        with load_service(**options):  # type: ignore[arg-type]
            pass
        (record,) = [r for r in caplog.records if "billing state" in r.getMessage()]
        return record.levelname, record.getMessage()

    with caplog.at_level(logging.INFO, logger="ams_billing"):
        level, text = said(environ=xero_environment())
        assert level == "INFO"
        assert text == (
            "billing state: idempotency ledger, invoice states and webhook inbox in "
            f"sqlite:///{default_file()}"
        )
        level, text = said(environ={**xero_environment(), "WEB_CONCURRENCY": "4"})
        assert level == "WARNING"
        assert "4 processes are declared" in text
        assert "one machine only" in text
        assert "postgresql" in text
        level, text = said(environ={**FAKE, "AMS_BILLING_DATABASE_URL": "memory:"})
        assert level == "INFO"
        assert "invoice states and webhook inbox in memory (lost on restart)" in text
        level, text = said(
            environ={**FAKE, "AMS_BILLING_PROCESSES": "3"}, state_store=InMemoryInvoiceStateStore()
        )
        assert level == "WARNING"
        assert "invoice states in memory (lost on restart)" in text
        assert f"webhook inbox in sqlite:///{default_file()}" in text
        assert "3 processes are declared" in text


def test_the_log_names_postgresql_without_its_password(
    caplog: pytest.LogCaptureFixture, postgres_url: str
) -> None:
    assert ":ams@" in postgres_url  # the fixture's user has a password: it must not show
    with (
        caplog.at_level(logging.INFO, logger="ams_billing"),
        load_service(
            environ={**xero_environment(), "AMS_BILLING_DATABASE_URL": postgres_url}
        ) as billing,
    ):
        assert isinstance(billing.inbox, SqlWebhookInbox)
    shown = postgres_url.replace(":ams@", ":***@")
    lines = [r.getMessage() for r in caplog.records if "billing state" in r.getMessage()]
    assert lines == [
        f"billing state: idempotency ledger, invoice states and webhook inbox in {shown}"
    ]
    assert ":ams@" not in caplog.text


def run_worker(key: str, environ: dict[str, str]) -> dict[str, str]:
    """One AMS process: ``load_service()`` from the environment, bill, exit."""
    done = subprocess.run(
        [sys.executable, str(WORKER), key],
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.fixture
def emulator() -> Iterator[tuple[XeroEmulator, EmulatorServer]]:
    xero = XeroEmulator(EmulatorConfig(seed=11), clock=EmulatorClock.virtual())
    with serve_emulator(xero) as server:
        yield xero, server


XERO_KEY_WINDOW_PASSED = 400.0
"""Seconds to move the emulator's clock: past the 6 minutes Xero replays an Idempotency-Key."""


@pytest.mark.parametrize(
    ("database", "invoices"),
    [(None, 1), ("memory:", 2)],
    ids=["default-durable", "memory-double-bills"],
)
def test_a_retry_from_a_new_process_after_xeros_key_window_bills_once_by_default(
    emulator: tuple[XeroEmulator, EmulatorServer], database: str | None, invoices: int
) -> None:
    xero, server = emulator
    environ = provider_environment(xero.config, server.base_url, database_url=database)

    first = run_worker("member-7", environ)
    xero.clock.advance(XERO_KEY_WINDOW_PASSED)
    retried = run_worker("member-7", environ)  # a restart, then the caller's retry of one key

    live = [
        i
        for i in xero.books().invoices
        if i["Reference"] == "MEMBERSHIP-RESTART" and i["Status"] != "VOIDED"
    ]
    assert len(live) == invoices
    if database is None:
        assert first == retried
        assert first["ledger"] == "SqlIdempotencyStore"
        assert first["state_store"] == "SqlInvoiceStateStore"
        assert [i["InvoiceID"] for i in live] == [first["invoice_id"]]
    else:
        # The control: without the durable ledger the window really has passed, and the same
        # key bills twice. That is what the default prevents.
        assert first["ledger"] == "InMemoryIdempotencyStore"
        assert first["invoice_id"] != retried["invoice_id"]


def test_the_service_closes_the_stores_opened_for_it_and_not_the_callers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    closed: list[str] = []
    real_close = SqlStores.close

    def close(self: SqlStores) -> None:
        closed.append(str(self.engine.url.database))
        real_close(self)

    monkeypatch.setattr(SqlStores, "close", close)
    with load_service(environ=FAKE):
        assert closed == []
    assert closed == [str(default_file())]
    with open_stores(f"sqlite:///{tmp_path / 'own.sqlite3'}") as stores:
        load_service(environ=FAKE, stores=stores).close()
        assert closed == [str(default_file())]  # the caller's stores are the caller's to close


def test_workers_starting_together_on_a_new_sqlite_file_all_start(
    race_pool: RacePool, tmp_path: Path
) -> None:
    # The default on a new machine: every web worker's first load_service() at once creates
    # the file, switches it to WAL and creates the schema. The switch used to answer "database
    # is locked" at once to a process that met another's connection: these 8 rounds failed 1
    # run in 3 before the fix (a race; the fix is in stores/database.py::_use_wal).
    for round_ in range(8):
        url = f"sqlite:///{tmp_path / f'new-{round_}.sqlite3'}"
        assert race_pool.run(open_at_once, [(url,)] * PARTIES) == [head_revision()] * PARTIES
    url = f"sqlite:///{tmp_path / 'loaded.sqlite3'}"
    assert race_pool.run(load_at_once, [(url,)] * PARTIES) == ["SqlInvoiceStateStore"] * PARTIES
