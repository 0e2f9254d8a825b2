"""``ams-billing check`` for Stripe against the Stripe emulator on loopback: passes, each fault."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
from cli_helpers import invoke, json_of, write_env

from ams_billing.cli.checks.stripe_checks import NEEDED_EVENTS
from ams_billing.emulators.stripe import StripeEmulator, StripeEmulatorConfig
from ams_billing.emulators.xero.messages import EmulatorRequest, EmulatorResponse

URL = "https://members.example.org/billing/stripe/webhooks/"
ALL_CHECKS = ["variables", "provider", "api-key", "key-accepted", "permissions",
              "webhook-endpoint", "webhook-secret", "stores"]  # fmt: skip
RESTRICTED = "rk_test_51RestrictedKeyForTheChecks000000000"


class RestrictedEmulator(StripeEmulator):
    """Stripe's answer to a restricted key without the Invoices permission: 403 on invoices."""

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        authorization = request.headers.get("authorization", "")
        if RESTRICTED in authorization and request.path.startswith("/v1/invoices"):
            body = (
                b'{"error": {"type": "invalid_request_error", "message": "The provided key '
                b"'rk_test_***0000' does not have the required permissions for this endpoint "
                b"on account 'acct_1'.\"}}"
            )
            return EmulatorResponse(403, (("Content-Type", "application/json"),), body)
        return super().handle(request)


@attrs.define
class Stripe:
    emulator: StripeEmulator
    env: dict[str, str | None]


@contextmanager
def running_stripe(
    tmp_path: Path, *, events: tuple[str, ...] = NEEDED_EVENTS, cls: type = StripeEmulator
) -> Iterator[Stripe]:
    keys = (StripeEmulatorConfig().secret_key, RESTRICTED)
    with cls(StripeEmulatorConfig(secret_keys=keys)) as emulator:
        _, secret = emulator.create_webhook_endpoint(URL, events)
        env: dict[str, str | None] = {
            "AMS_BILLING_SERVICE_CLASS": "stripe",
            "STRIPE_SECRET_KEY": emulator.secret_key,
            "STRIPE_WEBHOOK_SECRET": secret,
            "STRIPE_API_BASE": emulator.base_url,
            "AMS_BILLING_DATABASE_URL": f"sqlite:///{tmp_path / 'billing.sqlite3'}",
        }
        yield Stripe(emulator, env)


def run_check(tmp_path: Path, env: dict[str, str | None], *extra: str) -> dict[str, Any]:
    env_file = write_env(tmp_path / "stripe.env", env)
    result = invoke(["check", "--env-file", str(env_file), "--json", *extra])
    document = json_of(result)
    assert document["exit_code"] == result.exit_code, result.output
    return document


def by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in document["checks"]}


def test_check_passes_against_the_stripe_emulator(tmp_path: Path) -> None:
    with running_stripe(tmp_path) as stripe:
        document = run_check(tmp_path, stripe.env, "--webhook-url", URL)
    assert document["provider"] == "stripe"  # chosen from AMS_BILLING_SERVICE_CLASS
    assert [c["id"] for c in document["checks"]] == ALL_CHECKS
    assert document["summary"] == {"pass": 8, "warn": 0, "fail": 0, "skip": 0}, document
    checks = by_id(document)
    assert "a secret key, test mode" in checks["api-key"]["detail"]
    assert URL in checks["webhook-endpoint"]["detail"]


def test_the_text_report_names_stripe_and_shows_no_secret(tmp_path: Path) -> None:
    with running_stripe(tmp_path) as stripe:
        env_file = write_env(tmp_path / "stripe.env", stripe.env)
        result = invoke(["check", "--env-file", str(env_file), "--webhook-url", URL])
    assert result.exit_code == 0, result.output
    assert "the Stripe setup" in result.output
    assert "8 passed, 0 warned, 0 failed, 0 skipped; exit 0" in result.output
    for secret in (stripe.env["STRIPE_SECRET_KEY"], stripe.env["STRIPE_WEBHOOK_SECRET"]):
        assert secret is not None
        assert secret not in result.output
        assert secret[-12:] not in result.output


def test_a_missing_key_fails_with_its_fix(tmp_path: Path) -> None:
    with running_stripe(tmp_path) as stripe:
        document = run_check(tmp_path, {**stripe.env, "STRIPE_SECRET_KEY": None}, "--provider",
                             "stripe")  # fmt: skip
    checks = by_id(document)
    assert document["exit_code"] == 3
    assert checks["api-key"]["status"] == "fail"
    assert "API keys page" in checks["api-key"]["fix"]
    assert checks["key-accepted"]["status"] == "skip"


def test_a_publishable_key_is_refused_by_its_shape(tmp_path: Path) -> None:
    with running_stripe(tmp_path) as stripe:
        env = {**stripe.env, "STRIPE_SECRET_KEY": "pk_test_51PublishableKey0000000000"}
        document = run_check(tmp_path, env)
    checks = by_id(document)
    assert document["exit_code"] == 3
    assert checks["api-key"]["status"] == "fail"
    assert "publishable" in checks["api-key"]["detail"]
    assert "sk_test_" in checks["api-key"]["fix"]
    assert checks["webhook-endpoint"]["status"] == "skip"


def test_a_live_key_the_account_does_not_know_is_refused_by_stripe(tmp_path: Path) -> None:
    with running_stripe(tmp_path) as stripe:
        env = {**stripe.env, "STRIPE_SECRET_KEY": "sk_live_51SomeOtherAccount00000000000"}
        document = run_check(tmp_path, env)
    checks = by_id(document)
    assert "LIVE mode" in checks["api-key"]["detail"]
    assert checks["api-key"]["status"] == "pass"
    assert checks["key-accepted"]["status"] == "fail"
    assert "refused STRIPE_SECRET_KEY (401" in checks["key-accepted"]["detail"]
    assert "copy it again" in checks["key-accepted"]["fix"]
    assert checks["webhook-endpoint"]["status"] == "skip"
    assert document["exit_code"] == 4


def test_an_unreachable_api_fails_with_exit_4(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens
    with running_stripe(tmp_path) as stripe:
        env = {**stripe.env, "STRIPE_API_BASE": f"http://127.0.0.1:{port}"}
    document = run_check(tmp_path, env)
    checks = by_id(document)
    assert checks["key-accepted"]["status"] == "fail"
    assert "could not be reached" in checks["key-accepted"]["detail"]
    assert document["exit_code"] == 4


def test_a_restricted_key_without_a_permission_is_named(tmp_path: Path) -> None:
    with running_stripe(tmp_path, cls=RestrictedEmulator) as stripe:
        document = run_check(tmp_path, {**stripe.env, "STRIPE_SECRET_KEY": RESTRICTED})
    checks = by_id(document)
    assert "a restricted key" in checks["api-key"]["detail"]
    assert checks["key-accepted"]["status"] == "pass"
    assert checks["permissions"]["status"] == "fail"
    assert checks["permissions"]["detail"] == "the key may not read Invoices (403)"
    assert "Write on Customers, Invoices" in checks["permissions"]["fix"]


def test_no_endpoint_at_the_url_fails_and_lists_what_is_registered(tmp_path: Path) -> None:
    other = "https://members.example.org/other/"
    with running_stripe(tmp_path) as stripe:
        document = run_check(tmp_path, stripe.env, "--webhook-url", other)
    check = by_id(document)["webhook-endpoint"]
    assert check["status"] == "fail"
    assert f"no webhook endpoint is registered at {other} (registered: {URL})" in check["detail"]
    assert "invoice.paid" in check["fix"]
    assert document["exit_code"] == 1


def test_an_endpoint_missing_needed_events_names_them(tmp_path: Path) -> None:
    with running_stripe(tmp_path, events=("invoice.paid", "invoice.finalized")) as stripe:
        document = run_check(tmp_path, stripe.env, "--webhook-url", URL)
    check = by_id(document)["webhook-endpoint"]
    assert check["status"] == "fail"
    assert "it does not listen to invoice.voided, invoice.marked_uncollectible" in check["detail"]


def test_an_endpoint_listening_to_everything_passes(tmp_path: Path) -> None:
    with running_stripe(tmp_path, events=("*",)) as stripe:
        document = run_check(tmp_path, stripe.env)  # without --webhook-url: any endpoint
    check = by_id(document)["webhook-endpoint"]
    assert check["status"] == "pass"
    assert "--webhook-url" in check["detail"]


def test_a_disabled_endpoint_fails(tmp_path: Path) -> None:
    with running_stripe(tmp_path) as stripe:
        endpoint = stripe.emulator.state()["webhook_endpoints"][0]["id"]
        with stripe.emulator.client() as client:
            answer = client.post(f"/v1/webhook_endpoints/{endpoint}", data={"disabled": "true"})
        assert answer.status_code == 200, answer.text
        document = run_check(tmp_path, stripe.env, "--webhook-url", URL)
    check = by_id(document)["webhook-endpoint"]
    assert check["status"] == "fail"
    assert "it is disabled" in check["detail"]


def test_a_missing_or_malformed_webhook_secret_fails(tmp_path: Path) -> None:
    with running_stripe(tmp_path) as stripe:
        missing = run_check(tmp_path, {**stripe.env, "STRIPE_WEBHOOK_SECRET": None})
        rotated = run_check(
            tmp_path,
            {**stripe.env, "STRIPE_WEBHOOK_SECRET": f"{stripe.env['STRIPE_WEBHOOK_SECRET']},"
                                                    "whsec_older0000000000000000"},
        )  # fmt: skip
    assert by_id(missing)["webhook-secret"]["status"] == "fail"
    assert "Signing secret" in by_id(missing)["webhook-secret"]["fix"]
    assert missing["exit_code"] == 3
    assert by_id(rotated)["webhook-secret"]["status"] == "pass"
    assert "2 secrets: a roll in progress" in by_id(rotated)["webhook-secret"]["detail"]


def test_a_xero_environment_is_still_checked_as_xero(tmp_path: Path) -> None:
    env: dict[str, str | None] = {"XERO_CLIENT_ID": "x", "STRIPE_SECRET_KEY": "sk_test_1"}
    document = run_check(tmp_path, env)
    assert "provider" not in document  # the Xero document keeps its shape
    assert "credentials" in by_id(document)
