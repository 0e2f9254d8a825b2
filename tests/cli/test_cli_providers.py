"""``ams-billing providers``: entry points, and capabilities where they can be built."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import invoke, json_of, running_emulator, write_env

from ams_billing.cli.commands.providers import ProviderRow
from ams_billing.emulators.xero import EmulatorConfig

EVERYTHING = ["changed_since", "online_invoice_url", "send_invoice", "void_invoice", "webhooks"]


def test_the_table_lists_the_installed_providers(tmp_path: Path) -> None:
    result = invoke(["providers", "--env-file", str(write_env(tmp_path / "e.env", {}))])
    assert result.exit_code == 0, result.output
    fake = next(line for line in result.stdout.splitlines() if " fake " in line)
    assert "ams_billing.providers.fake:FakeProvider" in fake
    assert "send_invoice" in fake
    xero = next(line for line in result.stdout.splitlines() if " xero " in line)
    assert "not configured: 6 problems; run `ams-billing check`" in xero
    assert "XERO_CLIENT_ID" not in result.stdout  # the detail is check's (and --json's)


def test_an_80_column_terminal_gets_a_readable_summary(tmp_path: Path) -> None:
    env_file = str(write_env(tmp_path / "e.env", {}))
    result = invoke(["providers", "--env-file", env_file], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, result.stdout
    assert "not configured: 6 problems; run `ams-billing check`" in result.stdout
    assert "ams_billing.providers.xero:XeroProvider" in result.stdout
    assert "ams_billing.providers.fake:FakeProvider" in result.stdout
    flowing = " ".join(line.strip() for line in lines)
    assert ", ".join(EVERYTHING) in flowing  # the fake's capabilities, whole words only
    assert "…" not in result.stdout
    detail = invoke(["check", "--env-file", env_file], env={"COLUMNS": "80"})
    assert "XERO_CLIENT_ID: is not set" in detail.stdout
    document = json_of(invoke(["providers", "--env-file", env_file, "--json"]))
    reason = next(row for row in document["providers"] if row["name"] == "xero")["reason"]
    for variable in ("XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "XERO_WEBHOOK_KEY",
                     "XERO_ACCOUNT_CODE", "XERO_CURRENCY_CODE", "XERO_AMOUNT_TYPE"):  # fmt: skip
        assert f"{variable}: is not set" in reason


def test_json_builds_only_what_the_environment_configures(tmp_path: Path) -> None:
    env = write_env(tmp_path / "e.env", {"AMS_BILLING_SERVICE_CLASS": "fake"})
    result = invoke(["providers", "--env-file", str(env), "--json"])
    document = json_of(result)
    assert list(document) == ["ok", "exit_code", "selected", "selection_error", "providers"]
    rows = {row["name"]: row for row in document["providers"]}
    assert rows["fake"] == {
        "name": "fake", "target": "ams_billing.providers.fake:FakeProvider",
        "selected": True, "built": True, "capabilities": EVERYTHING, "reason": None,
    }  # fmt: skip
    assert rows["xero"]["built"] is False
    assert rows["xero"]["capabilities"] is None
    assert "XERO_ACCOUNT_CODE" in rows["xero"]["reason"]
    assert document["selected"] == "fake"


def test_the_xero_provider_is_built_against_the_emulator(tmp_path: Path) -> None:
    with running_emulator(EmulatorConfig(rate_limits=False, is_demo_company=True)) as xero:
        env = write_env(tmp_path / "e.env", {**xero.env, "XERO_EMAIL_INVOICES": "True"})
        result = invoke(["providers", "--env-file", str(env), "--json"])
    rows = {row["name"]: row for row in json_of(result)["providers"]}
    assert rows["xero"]["selected"] is True  # selected by the guide's class path
    assert rows["xero"]["built"] is True
    # A Demo Company cannot email: the instance says so.
    assert rows["xero"]["capabilities"] == [c for c in EVERYTHING if c != "send_invoice"]


def test_a_class_path_of_an_entry_point_selects_it(tmp_path: Path) -> None:
    path = "ams_billing.providers.fake.provider.FakeProvider"
    env = write_env(tmp_path / "e.env", {"AMS_BILLING_SERVICE_CLASS": path})
    rows = json_of(invoke(["providers", "--env-file", str(env), "--json"]))["providers"]
    assert [row["name"] for row in rows if row["selected"]] == ["fake"]


def test_a_class_path_outside_the_entry_points_is_listed(tmp_path: Path) -> None:
    env = write_env(tmp_path / "e.env", {"AMS_BILLING_SERVICE_CLASS": "cli_helpers:OwnFake"})
    rows = json_of(invoke(["providers", "--env-file", str(env), "--json"]))["providers"]
    assert rows[-1]["name"] == "(class path)"
    assert rows[-1]["target"] == "cli_helpers:OwnFake"
    assert rows[-1]["selected"] is True
    assert rows[-1]["capabilities"] == EVERYTHING


def test_an_unloadable_selection_exits_3(tmp_path: Path) -> None:
    env = write_env(tmp_path / "e.env", {"AMS_BILLING_SERVICE_CLASS": "quickbooks"})
    result = invoke(["providers", "--env-file", str(env), "--json"])
    assert result.exit_code == 3
    document = json_of(result)
    assert document["ok"] is False
    assert "no provider is installed under that name" in document["selection_error"]


def test_a_narrow_listing_marks_the_selected_provider(tmp_path: Path) -> None:
    env = write_env(tmp_path / "e.env", {"AMS_BILLING_SERVICE_CLASS": "fake"})
    result = invoke(["providers", "--env-file", str(env)], env={"COLUMNS": "80"})
    assert "fake (selected)  ams_billing.providers.fake:FakeProvider" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_the_summary_points_other_providers_at_the_json_listing() -> None:
    row = ProviderRow(
        "other", "pkg:Other", False, False, reason="not configured here: A: x", problems=("A: x",)
    )
    assert row.summary() == "not configured: 1 problem; run `ams-billing providers --json`"
    assert row.as_json()["reason"] == "not configured here: A: x"
