"""Which database, how its engine is set up, the public names, and ``ams-billing db``."""

from __future__ import annotations

import inspect
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from stores_helpers import START, delivery

import ams_billing.stores
from ams_billing.cli import main
from ams_billing.core.errors import ConfigurationError
from ams_billing.core.models import InvoiceStatus
from ams_billing.core.tracking import InvoiceSnapshot
from ams_billing.stores import (
    DATABASE_URL_VARIABLE,
    create_store_engine,
    default_database_url,
    head_revision,
    open_stores,
)
from ams_billing.stores.database import parse_database_url


def test_the_default_is_an_sqlite_file_in_the_users_data_directory(tmp_path: Path) -> None:
    home = Path.home()
    assert default_database_url({}) == (
        f"sqlite:///{home}/.local/share/ams-billing/billing.sqlite3"
    )
    assert default_database_url({"XDG_DATA_HOME": str(tmp_path), DATABASE_URL_VARIABLE: ""}) == (
        f"sqlite:///{tmp_path}/ams-billing/billing.sqlite3"
    )
    url = "postgresql+psycopg://billing@db.internal/ams"
    assert default_database_url({DATABASE_URL_VARIABLE: f" {url} "}) == url


def test_a_blank_variable_is_reported_by_name() -> None:
    with pytest.raises(ConfigurationError) as raised:
        default_database_url({DATABASE_URL_VARIABLE: "   "})
    assert [error.field for error in raised.value.errors] == [DATABASE_URL_VARIABLE]


def test_open_stores_without_a_url_uses_the_default_and_creates_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATABASE_URL_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with open_stores() as stores:
        stores.inbox.add(delivery(1))
    assert (tmp_path / "data" / "ams-billing" / "billing.sqlite3").is_file()


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u:p@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:////tmp/x.sqlite3", "sqlite"),
    ],
)
def test_postgresql_urls_mean_psycopg_3(url: str, driver: str) -> None:
    assert parse_database_url(url).drivername == driver


@pytest.mark.parametrize("url", ["", "not a url", "mysql://u:secret-pw@h/db"])
def test_unusable_urls_are_configuration_errors_that_never_show_a_password(url: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        create_store_engine(url)
    assert "secret-pw" not in str(raised.value)
    assert raised.value.errors[0].field == DATABASE_URL_VARIABLE


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_foreign_keys(sqlite_url: str) -> None:
    with open_stores(sqlite_url) as stores, stores.engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        }
    assert pragma == {"journal_mode": "wal", "busy_timeout": 30000, "foreign_keys": 1}


def test_naive_datetimes_are_refused_rather_than_guessed(database_url: str) -> None:
    bad = InvoiceSnapshot(InvoiceStatus.PAID, Decimal("1.00"), START.replace(tzinfo=None))
    with open_stores(database_url) as stores:
        with pytest.raises(ValueError, match="timezone-aware"):
            stores.invoice_state.put_if_newer("inv-1", bad)
        assert stores.invoice_state.get("inv-1") is None


def test_every_public_name_is_exported_and_documented() -> None:
    assert sorted(ams_billing.stores.__all__) == sorted(set(ams_billing.stores.__all__))
    for name in ams_billing.stores.__all__:
        value = getattr(ams_billing.stores, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name} has no docstring"


def test_cli_db_upgrade_and_status(sqlite_url: str) -> None:
    runner = CliRunner()
    status = runner.invoke(main, ["db", "status", "--url", sqlite_url, "--json"])
    assert status.exit_code == 1, status.output
    assert json.loads(status.stdout)["current"] is None

    upgraded = runner.invoke(main, ["db", "upgrade", "--url", sqlite_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"upgraded from empty to {head_revision()}" in upgraded.stdout

    again = runner.invoke(main, ["db", "upgrade", "--url", sqlite_url, "--json"])
    assert again.exit_code == 0, again.output
    document = json.loads(again.stdout)
    assert document == {
        "ok": True, "url": sqlite_url, "before": head_revision(), "current": head_revision(),
        "head": head_revision(),
    }  # fmt: skip

    status = runner.invoke(main, ["db", "status", "--url", sqlite_url])
    assert status.exit_code == 0, status.output
    assert "up to date" in status.stdout


def test_cli_db_reads_the_variable_and_hides_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(DATABASE_URL_VARIABLE, "mysql://u:secret-pw@h/db")
    result = CliRunner().invoke(main, ["db", "status"])
    assert result.exit_code == 3
    assert "secret-pw" not in result.output
