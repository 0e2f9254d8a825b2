"""``ams-billing check`` against the emulator over loopback HTTP: passes, then each fault."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import (
    always_ok_app,
    invoke,
    json_of,
    running_emulator,
    webhook_receiver,
    write_env,
)

from ams_billing.cli import CliContext
from ams_billing.contrib.webhooks.server import serve_wsgi
from ams_billing.emulators.xero import EmulatorConfig

ALL_CHECKS = [
    "variables", "provider", "credentials", "tenant", "scopes", "settings-scope",
    "organisation", "emails", "account", "currency", "rate-limit", "whitelist", "stores",
    "webhook-key",
]  # fmt: skip
SETTINGS_DEPENDENT = ["organisation", "emails", "account", "currency"]
OTHER_TENANT = "0f0f0f0f-1111-4222-8333-444444444444"


def run_check(
    tmp_path: Path, env: dict[str, str | None], *extra: str, obj: CliContext | None = None
) -> dict[str, Any]:
    result = invoke(
        ["check", "--env-file", str(write_env(tmp_path / "xero.env", env)), "--json", *extra],
        obj=obj,
    )
    document = json_of(result)
    assert document["exit_code"] == result.exit_code, result.output
    return document


def by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in document["checks"]}


def test_check_passes_against_the_emulator(tmp_path: Path) -> None:
    with running_emulator() as xero:
        env_file = write_env(tmp_path / "xero.env", xero.env)
        result = invoke(["check", "--env-file", str(env_file)])
    assert result.exit_code == 0, result.output
    for title in ("credentials", "tenant", "scopes", "organisation", "account code", "currency"):
        line = next(line for line in result.stdout.splitlines() if f" {title} " in line)
        assert "PASS" in line, line
    assert "200 Sales: an active revenue account" in result.stdout
    assert "14 passed, 0 warned, 0 failed, 0 skipped; exit 0" in result.stdout


def test_check_reads_the_process_environment_without_env_file() -> None:
    with running_emulator() as xero:
        result = invoke(["check", "--json"], env={**xero.env, "XERO_SCOPES": None})
    assert result.exit_code == 0, result.output
    assert json_of(result)["source"] == "the environment"


def test_check_json_shape(tmp_path: Path) -> None:
    with running_emulator() as xero:
        document = run_check(tmp_path, xero.env)
    assert list(document) == ["ok", "exit_code", "source", "webhook_url", "summary", "checks"]
    assert document["ok"] is True
    assert document["exit_code"] == 0
    assert document["summary"] == {"pass": 14, "warn": 0, "fail": 0, "skip": 0}
    assert [check["id"] for check in document["checks"]] == ALL_CHECKS
    for check in document["checks"]:
        assert list(check) == ["id", "title", "status", "detail", "fix", "problems"]
        assert check["status"] == "pass"
        assert check["fix"] is None


def test_check_talks_to_xero_through_the_provider(tmp_path: Path) -> None:
    with running_emulator() as xero:
        run_check(tmp_path, xero.env)
        endpoints = [call.endpoint for call in xero.emulator.calls]
    assert endpoints[:2] == ["POST /connect/token", "GET /connections"]
    assert {"GET /Organisation", "GET /Accounts", "GET /Currencies"} <= set(endpoints)
    assert endpoints.count("POST /connect/token") == 1  # the check's token is reused


@pytest.mark.parametrize(
    ("change", "check_id", "detail", "fix"),
    [
        ({"XERO_CLIENT_SECRET": "not-the-secret"}, "credentials", "invalid_client",
         "if a new secret was generated there, the old one no longer works"),
        ({"XERO_CLIENT_ID": "WRONGCLIENTID"}, "credentials", "invalid_client",
         "copy the Client ID from the app's configuration page"),
    ],
)  # fmt: skip
def test_refused_credentials_fail_with_the_fix_and_skip_what_depends_on_them(
    tmp_path: Path, change: dict[str, str], check_id: str, detail: str, fix: str
) -> None:
    with running_emulator() as xero:
        document = run_check(tmp_path, {**xero.env, **change})
    checks = by_id(document)
    assert document["exit_code"] == 4
    assert checks[check_id]["status"] == "fail"
    assert detail in checks[check_id]["detail"]
    assert fix in checks[check_id]["fix"]
    assert "XERO_CLIENT_SECRET" in checks[check_id]["fix"]
    for dependent in ["tenant", "scopes", "settings-scope", *SETTINGS_DEPENDENT, "rate-limit"]:
        assert checks[dependent]["status"] == "skip"
        assert checks[dependent]["detail"] == "Xero refused the client credentials"
    assert checks["webhook-key"]["status"] == "pass"  # checks that need no call still run


def test_a_tenant_id_of_another_organisation_fails_naming_the_right_one(tmp_path: Path) -> None:
    with running_emulator() as xero:
        document = run_check(tmp_path, {**xero.env, "XERO_TENANT_ID": OTHER_TENANT})
        tenant = xero.env["XERO_TENANT_ID"]
    checks = by_id(document)
    assert document["exit_code"] == 4
    assert checks["tenant"]["status"] == "fail"
    assert OTHER_TENANT in checks["tenant"]["detail"]
    assert f"set XERO_TENANT_ID to {tenant}" in checks["tenant"]["fix"]
    assert "Demo Company was reset" in checks["tenant"]["fix"]
    for dependent in ["scopes", *SETTINGS_DEPENDENT]:
        assert checks[dependent]["status"] == "skip"
        assert "not the connection's organisation" in checks[dependent]["detail"]


def test_an_empty_tenant_id_is_fine_for_a_custom_connection(tmp_path: Path) -> None:
    with running_emulator() as xero:
        document = run_check(tmp_path, {**xero.env, "XERO_TENANT_ID": None})
    assert document["ok"] is True
    assert "XERO_TENANT_ID is not set" in by_id(document)["tenant"]["detail"]


@pytest.mark.parametrize(
    ("code", "detail", "fix"),
    [
        ("999", "the chart of accounts has no account with code '999'",
         "200 Sales, 260 Other Revenue"),
        ("205", "account 205 Old Sales (archived) is ARCHIVED", "restore the account in Xero"),
        ("400", "account 400 Advertising is of class EXPENSE", "an active revenue account"),
    ],
)  # fmt: skip
def test_the_account_code_must_be_an_active_revenue_account(
    tmp_path: Path, code: str, detail: str, fix: str
) -> None:
    with running_emulator() as xero:
        document = run_check(tmp_path, {**xero.env, "XERO_ACCOUNT_CODE": code})
    checks = by_id(document)
    assert document["exit_code"] == 1
    assert [c["id"] for c in document["checks"] if c["status"] != "pass"] == ["account"]
    assert checks["account"]["status"] == "fail"
    assert detail in checks["account"]["detail"]
    assert fix in checks["account"]["fix"]
    assert "XERO_ACCOUNT_CODE" in checks["account"]["fix"]


def test_a_currency_the_organisation_lacks_fails(tmp_path: Path) -> None:
    with running_emulator() as xero:
        document = run_check(tmp_path, {**xero.env, "XERO_CURRENCY_CODE": "USD"})
    currency = by_id(document)["currency"]
    assert document["exit_code"] == 1
    assert currency["status"] == "fail"
    assert currency["detail"] == "USD is not enabled in Emulated Association (NZ), which has NZD"
    assert "add USD in Xero" in currency["fix"]
    assert "set XERO_CURRENCY_CODE to NZD" in currency["fix"]


def test_an_enabled_foreign_currency_passes(tmp_path: Path) -> None:
    config = EmulatorConfig(rate_limits=False, currencies=("NZD", "USD"))
    with running_emulator(config) as xero:
        document = run_check(tmp_path, {**xero.env, "XERO_CURRENCY_CODE": "USD"})
    assert by_id(document)["currency"]["detail"] == "USD (United States Dollar) is enabled"


def test_a_demo_company_with_emails_on_fails(tmp_path: Path) -> None:
    config = EmulatorConfig(rate_limits=False, is_demo_company=True)
    with running_emulator(config) as xero:
        on = run_check(tmp_path, {**xero.env, "XERO_EMAIL_INVOICES": "True"})
        off = run_check(tmp_path, {**xero.env, "XERO_EMAIL_INVOICES": "False"})
    emails = by_id(on)["emails"]
    assert on["exit_code"] == 1
    assert emails["status"] == "fail"
    assert "Demo Company, which cannot send invoice emails" in emails["detail"]
    assert "set XERO_EMAIL_INVOICES=False" in emails["fix"]
    assert "a Demo Company" in by_id(on)["organisation"]["detail"]
    assert off["ok"] is True
    assert by_id(off)["emails"]["detail"] == "Demo Company, and invoice emails are off"


def test_emails_off_on_a_real_organisation_is_a_warning(tmp_path: Path) -> None:
    with running_emulator() as xero:
        document = run_check(tmp_path, {**xero.env, "XERO_EMAIL_INVOICES": "False"})
    emails = by_id(document)["emails"]
    assert document["exit_code"] == 0
    assert emails["status"] == "warn"
    assert "set XERO_EMAIL_INVOICES=True in production" in emails["fix"]


def test_granular_scopes_without_settings_read_skip_the_settings_checks(tmp_path: Path) -> None:
    config = EmulatorConfig(
        rate_limits=False, scopes=("accounting.contacts", "accounting.invoices")
    )
    with running_emulator(config) as xero:
        document = run_check(tmp_path, xero.env)
    checks = by_id(document)
    assert document["exit_code"] == 1
    assert checks["scopes"]["status"] == "pass"
    assert "granular scopes" in checks["scopes"]["detail"]
    assert "accounting.invoices" in checks["scopes"]["detail"]
    assert checks["settings-scope"]["status"] == "fail"
    assert "accounting.settings.read" in checks["settings-scope"]["fix"]
    assert "re-authorise" in checks["settings-scope"]["fix"]
    for dependent in SETTINGS_DEPENDENT:
        assert checks[dependent]["status"] == "skip"
        assert (
            checks[dependent]["detail"] == "needs accounting.settings.read, which the token lacks"
        )
    assert [c["id"] for c in document["checks"] if c["status"] == "fail"] == ["settings-scope"]


def test_a_connection_without_invoice_scopes_fails_naming_both_generations(tmp_path: Path) -> None:
    config = EmulatorConfig(
        rate_limits=False, scopes=("accounting.contacts", "accounting.settings.read")
    )
    with running_emulator(config) as xero:
        document = run_check(tmp_path, xero.env)
    scopes = by_id(document)["scopes"]
    assert scopes["status"] == "fail"
    assert "lacks accounting.transactions" in scopes["detail"]
    assert "29 April 2026" in scopes["fix"]
    assert "tick accounting.invoices" in scopes["fix"]


class StripScope(httpx.BaseTransport):
    """Real HTTP, but the token response does not say which scopes it grants."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/connect/token"):
            return response
        response.read()
        data = json.loads(response.content)
        data.pop("scope", None)
        return httpx.Response(response.status_code, json=data)

    def close(self) -> None:
        self.inner.close()


def test_without_a_scope_field_the_check_probes_reads(tmp_path: Path) -> None:
    config = EmulatorConfig(
        rate_limits=False, scopes=("accounting.contacts", "accounting.invoices")
    )
    obj = CliContext(xero_options={"transport": StripScope()})
    with running_emulator(config) as xero:
        document = run_check(tmp_path, xero.env, obj=obj)
        endpoints = {call.endpoint for call in xero.emulator.calls}
    checks = by_id(document)
    assert checks["scopes"]["status"] == "pass"
    assert "reads were probed" in checks["scopes"]["detail"]
    assert checks["settings-scope"]["status"] == "fail"
    assert "probed with GET /Organisation" in checks["settings-scope"]["detail"]
    assert {"GET /Contacts", "GET /Invoices", "GET /Organisation"} <= endpoints


def test_a_bad_whitelist_regex_fails_but_xero_is_still_checked(tmp_path: Path) -> None:
    with running_emulator() as xero:
        document = run_check(
            tmp_path, {**xero.env, "AMS_BILLING_EMAIL_WHITELIST_REGEX": "(unclosed"}
        )
    checks = by_id(document)
    assert document["exit_code"] == 3
    assert checks["variables"]["status"] == "fail"
    assert [p["variable"] for p in checks["variables"]["problems"]] == [
        "AMS_BILLING_EMAIL_WHITELIST_REGEX"
    ]
    assert checks["whitelist"]["status"] == "fail"
    assert "is not a valid regular expression" in checks["whitelist"]["detail"]
    assert "@example\\.org$" in checks["whitelist"]["fix"]
    assert all(checks[i]["status"] == "pass" for i in ["credentials", "account", "currency"])


def test_a_missing_webhook_key_fails_with_where_to_find_it(tmp_path: Path) -> None:
    with running_emulator() as xero:
        document = run_check(tmp_path, {**xero.env, "XERO_WEBHOOK_KEY": None})
    checks = by_id(document)
    assert document["exit_code"] == 3
    assert checks["webhook-key"]["status"] == "fail"
    assert "Webhooks section in the Xero developer portal" in checks["webhook-key"]["fix"]
    assert checks["credentials"]["status"] == "pass"


def test_every_variable_problem_is_reported_at_once_and_calls_are_skipped(tmp_path: Path) -> None:
    document = run_check(
        tmp_path,
        {"XERO_AMOUNT_TYPE": "GROSS", "XERO_CURRENCY_CODE": "nzd", "XERO_TENANT_ID": "acme"},
    )
    checks = by_id(document)
    assert document["exit_code"] == 3
    problems = {p["variable"] for p in checks["variables"]["problems"]}
    assert problems >= {
        "AMS_BILLING_SERVICE_CLASS", "XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "XERO_WEBHOOK_KEY",
        "XERO_ACCOUNT_CODE", "XERO_AMOUNT_TYPE", "XERO_CURRENCY_CODE", "XERO_TENANT_ID",
    }  # fmt: skip
    assert all(p["fix"] for p in checks["variables"]["problems"])
    assert checks["credentials"]["status"] == "skip"
    assert checks["credentials"]["detail"].startswith("XERO_CLIENT_ID is not set")
    assert checks["provider"]["status"] == "skip"


def test_a_provider_other_than_xero_is_a_warning(tmp_path: Path) -> None:
    with running_emulator() as xero:
        document = run_check(tmp_path, {**xero.env, "AMS_BILLING_SERVICE_CLASS": "fake"})
    provider = by_id(document)["provider"]
    assert provider["status"] == "warn"
    assert "not the Xero provider" in provider["detail"]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_an_unreachable_xero_exits_4(tmp_path: Path) -> None:
    with running_emulator() as xero:
        env = dict(xero.env)
    nowhere = closed_port_url()
    env.update(XERO_API_URL=nowhere, XERO_IDENTITY_URL=nowhere)
    waits: list[float] = []
    document = run_check(tmp_path, env, obj=CliContext(xero_options={"sleep": waits.append}))
    credentials = by_id(document)["credentials"]
    assert document["exit_code"] == 4
    assert "could not be reached" in credentials["detail"]
    assert len(waits) == 3  # the provider's retries applied (4 attempts), without really waiting
    assert by_id(document)["tenant"]["detail"] == "Xero could not be reached"


# -- the webhook endpoint --------------------------------------------------------------------


def test_the_real_webhook_app_passes_intent_to_receive(tmp_path: Path) -> None:
    with running_emulator() as xero, webhook_receiver(xero.settings()) as (url, received):
        document = run_check(tmp_path, xero.env, "--webhook-url", url)
    checks = by_id(document)
    assert document["webhook_url"] == url
    assert checks["webhook-url"]["status"] == "warn"  # plain http, but on loopback
    assert "Xero only delivers to HTTPS" in checks["webhook-url"]["detail"]
    assert checks["webhook-itr"]["status"] == "pass"
    assert document["exit_code"] == 0
    assert received == []  # Intent-to-Receive deliveries carry no events


def test_an_endpoint_answering_200_to_everything_fails_intent_to_receive(tmp_path: Path) -> None:
    with running_emulator() as xero, serve_wsgi(always_ok_app) as base_url:
        document = run_check(
            tmp_path, xero.env, "--webhook-url", base_url + "/billing/xero/webhooks/"
        )
    itr = by_id(document)["webhook-itr"]
    assert document["exit_code"] == 1
    assert itr["status"] == "fail"
    assert "signed with another key: answered 200, not 401" in itr["detail"]
    assert "body altered after signing: answered 200, not 401" in itr["detail"]
    assert "correctly signed" not in itr["detail"]
    assert "answer 401 when it does not match" in itr["fix"]


def test_an_endpoint_with_another_key_fails_intent_to_receive(tmp_path: Path) -> None:
    with (
        running_emulator() as xero,
        webhook_receiver(xero.settings(XERO_WEBHOOK_KEY="other-key")) as (url, _),
    ):
        document = run_check(tmp_path, xero.env, "--webhook-url", url)
    itr = by_id(document)["webhook-itr"]
    assert itr["status"] == "fail"
    assert "correctly signed: answered 401, not 200" in itr["detail"]
    assert "same key as the developer portal" in itr["fix"]


@pytest.mark.parametrize(
    ("url", "detail", "fix"),
    [
        ("http://members.example.org/billing/xero/webhooks/", "Xero only delivers to HTTPS",
         "serve the AMS over HTTPS"),
        ("https://members.example.org/xero/hook", "the path is '/xero/hook'",
         "https://YOUR_DOMAIN/billing/xero/webhooks/"),
        ("https://members.example.org/billing/xero/webhooks", "the trailing slash is missing",
         "https://YOUR_DOMAIN/billing/xero/webhooks/"),
        ("ftp://members.example.org/billing/xero/webhooks/", "is not an http(s) URL", "full URL"),
    ],
)  # fmt: skip
def test_a_webhook_url_xero_would_not_use_fails_without_calling_it(
    tmp_path: Path, url: str, detail: str, fix: str
) -> None:
    with running_emulator() as xero:
        document = run_check(tmp_path, xero.env, "--webhook-url", url)
    checks = by_id(document)
    assert checks["webhook-url"]["status"] == "fail"
    assert detail in checks["webhook-url"]["detail"]
    assert fix in checks["webhook-url"]["fix"]
    assert checks["webhook-itr"]["status"] == "skip"


def test_the_text_report_shows_each_fix_under_its_failure(tmp_path: Path) -> None:
    with running_emulator() as xero:
        env_file = write_env(tmp_path / "xero.env", {**xero.env, "XERO_CURRENCY_CODE": "USD"})
        result = invoke(["check", "--env-file", str(env_file)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "FAIL" in line and " currency " in line)
    assert "USD is not enabled" in lines[at]
    assert "fix: add USD in Xero" in lines[at + 1]
    assert "13 passed, 0 warned, 1 failed, 0 skipped; exit 1" in result.stdout


def test_a_malformed_env_file_is_a_configuration_error(tmp_path: Path) -> None:
    env_file = tmp_path / "broken.env"
    env_file.write_text("XERO_CLIENT_ID=abc\nthis is not a variable\n", encoding="utf-8")
    result = invoke(["check", "--env-file", str(env_file), "--json"])
    assert result.exit_code == 3
    error = json_of(result)["error"]
    assert error["problems"][0]["variable"] == "broken.env:2"


class GarbledConnections(httpx.BaseTransport):
    """Real HTTP, but GET /connections answers with a page instead of JSON."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/connections":
            return httpx.Response(200, text="<html>maintenance</html>", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_an_unreadable_answer_fails_the_check_instead_of_crashing(tmp_path: Path) -> None:
    obj = CliContext(xero_options={"transport": GarbledConnections()})
    with running_emulator() as xero:
        document = run_check(tmp_path, xero.env, obj=obj)
    tenant = by_id(document)["tenant"]
    assert document["exit_code"] == 4
    assert tenant["status"] == "fail"
    assert tenant["detail"] == "Xero's answer to GET /connections could not be read"


def test_the_stores_check_says_where_state_is_kept_and_warns_for_many_processes(
    tmp_path: Path,
) -> None:
    database = tmp_path / "state" / "billing.sqlite3"
    url = f"sqlite:///{database}"
    with running_emulator() as xero:
        alone = by_id(run_check(tmp_path, {**xero.env, "AMS_BILLING_DATABASE_URL": url}))
        many = by_id(
            run_check(
                tmp_path, {**xero.env, "AMS_BILLING_DATABASE_URL": url, "WEB_CONCURRENCY": "4"}
            )
        )
    assert alone["stores"]["status"] == "pass"
    assert str(database) in alone["stores"]["detail"]
    assert "created on first use" in alone["stores"]["detail"]
    assert not database.exists(), "a check creates nothing"
    assert many["stores"]["status"] == "warn"
    assert "4 processes" in many["stores"]["detail"]
    assert "postgresql" in many["stores"]["fix"]


def test_the_stores_check_reads_an_existing_database_schema(tmp_path: Path) -> None:
    from ams_billing.stores import open_stores

    url = f"sqlite:///{tmp_path / 'billing.sqlite3'}"
    open_stores(url).close()
    with running_emulator() as xero:
        stores = by_id(run_check(tmp_path, {**xero.env, "AMS_BILLING_DATABASE_URL": url}))["stores"]
    assert stores["status"] == "pass"
    assert "current" in stores["detail"]


def test_the_stores_check_warns_when_state_is_kept_in_memory(tmp_path: Path) -> None:
    with running_emulator() as xero:
        memory = {**xero.env, "AMS_BILLING_DATABASE_URL": "memory:"}
        alone = by_id(run_check(tmp_path, memory))["stores"]
        many = by_id(run_check(tmp_path, {**memory, "AMS_BILLING_PROCESSES": "3"}))["stores"]
    assert alone["status"] == "warn"
    assert "process memory" in alone["detail"]
    assert "bill twice" in alone["detail"]
    assert "postgresql" in alone["fix"]
    assert many["status"] == "warn"
    assert "3 processes are declared" in many["detail"]


def test_the_stores_check_names_the_default_file_that_load_service_uses(tmp_path: Path) -> None:
    with running_emulator() as xero:
        stores = by_id(run_check(tmp_path, xero.env))["stores"]
    default = Path(os.environ["XDG_DATA_HOME"]) / "ams-billing" / "billing.sqlite3"
    assert stores["status"] == "pass"
    assert f"sqlite:///{default}" in stores["detail"]
