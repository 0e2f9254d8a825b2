"""``ams-billing webhooks send|verify`` over real HTTP against the WSGI webhook app."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cli_helpers import (
    WEBHOOK_PATH,
    chatty_app,
    invoke,
    json_of,
    running_emulator,
    webhook_receiver,
    write_env,
)

from ams_billing.contrib.webhooks.server import serve_wsgi
from ams_billing.core.signing import sign_body
from ams_billing.emulators.xero import EmulatorConfig

KEY = "emulator-webhook-key-NOT-A-SECRET"


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    config = EmulatorConfig()
    return write_env(
        tmp_path / "xero.env",
        {"XERO_WEBHOOK_KEY": config.webhook_key, "XERO_TENANT_ID": config.tenant_id},
    )


def test_send_an_intent_to_receive_delivery_to_the_real_app(env_file: Path) -> None:
    with running_emulator() as xero, webhook_receiver(xero.settings()) as (url, received):
        result = invoke(["webhooks", "send", url, "--env-file", str(env_file), "--json"])
    assert result.exit_code == 0, result.output
    document = json_of(result)
    assert document["ok"] is True
    assert document["kind"] == "intent-to-receive"
    assert document["answer"]["status"] == 200
    assert document["answer"]["body_bytes"] == 0
    assert document["answer"]["sets_cookie"] is False
    assert document["answer"]["elapsed_ms"] < 5000
    assert document["problems"] == []
    assert received == []  # no events: nothing to process


def test_send_a_sample_event_that_the_app_verifies_and_hands_over(env_file: Path) -> None:
    invoice_id = "5b7a1f0e-0000-4000-8000-000000000042"
    with running_emulator() as xero, webhook_receiver(xero.settings()) as (url, received):
        result = invoke(
            [
                "webhooks",
                "send",
                url,
                "--sample",
                "--invoice-id",
                invoice_id,
                "--env-file",
                str(env_file),
            ]
        )
    assert result.exit_code == 0, result.output
    assert "ok: answered as Xero requires" in result.stdout
    assert [delivery.invoice_ids for delivery in received] == [(invoice_id,)]


def test_send_a_body_file(env_file: Path, tmp_path: Path) -> None:
    body = tmp_path / "delivery.json"
    body.write_bytes(b'{"events": [], "firstEventSequence": 0, "lastEventSequence": 0}')
    with running_emulator() as xero, webhook_receiver(xero.settings()) as (url, _):
        result = invoke(
            [
                "webhooks",
                "send",
                url,
                "--body-file",
                str(body),
                "--env-file",
                str(env_file),
                "--json",
            ]
        )
    assert result.exit_code == 0, result.output
    assert json_of(result)["body_bytes"] == body.stat().st_size


def test_send_with_a_key_the_endpoint_does_not_use_fails(tmp_path: Path) -> None:
    other = write_env(tmp_path / "other.env", {"XERO_WEBHOOK_KEY": "a-different-key"})
    with running_emulator() as xero, webhook_receiver(xero.settings()) as (url, _):
        result = invoke(["webhooks", "send", url, "--env-file", str(other), "--json"])
    assert result.exit_code == 1
    document = json_of(result)
    assert document["problems"] == ["answered 401, not 200"]
    assert "same key as the developer portal" in document["fix"]


def test_send_reports_a_body_and_a_cookie(env_file: Path) -> None:
    with serve_wsgi(chatty_app) as base_url:
        result = invoke(["webhooks", "send", base_url + WEBHOOK_PATH, "--env-file", str(env_file)])
    assert result.exit_code == 1
    assert "sent a 7-byte body (it must be empty)" in result.stdout
    assert "set a cookie (it must not)" in result.stdout


def test_send_to_nothing_fails(env_file: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = invoke(
        [
            "webhooks",
            "send",
            f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
            "--env-file",
            str(env_file),
            "--json",
        ]
    )
    assert result.exit_code == 1
    assert json_of(result)["problems"] == ["no answer (ConnectError)"]


def test_send_needs_the_webhook_key(tmp_path: Path) -> None:
    empty = write_env(tmp_path / "empty.env", {})
    result = invoke(["webhooks", "send", "http://127.0.0.1:9/", "--env-file", str(empty), "--json"])
    assert result.exit_code == 3
    assert json_of(result)["error"]["problems"][0]["variable"] == "XERO_WEBHOOK_KEY"


def test_send_refuses_two_bodies(env_file: Path, tmp_path: Path) -> None:
    body = tmp_path / "b.json"
    body.write_text("{}")
    result = invoke(
        ["webhooks", "send", "http://127.0.0.1:9/", "--sample", "--body-file", str(body)]
    )
    assert result.exit_code == 2


def test_verify_a_captured_delivery(env_file: Path, tmp_path: Path) -> None:
    body = tmp_path / "captured.json"
    body.write_bytes(
        b'{"events":[{"resourceId":"abc","eventCategory":"INVOICE","eventType":"UPDATE",'
        b'"eventDateUtc":"2026-07-01T01:02:03.456"}],"firstEventSequence":1,"lastEventSequence":1}'
    )
    good = sign_body(body.read_bytes(), KEY)
    valid = invoke(
        [
            "webhooks",
            "verify",
            "--body-file",
            str(body),
            "--signature",
            good,
            "--env-file",
            str(env_file),
            "--json",
        ]
    )
    assert valid.exit_code == 0, valid.output
    assert json_of(valid)["valid"] is True
    assert json_of(valid)["events"] == 1

    bad = sign_body(body.read_bytes() + b" ", KEY)
    invalid = invoke(
        [
            "webhooks",
            "verify",
            "--body-file",
            str(body),
            "--signature",
            bad,
            "--env-file",
            str(env_file),
        ]
    )
    assert invalid.exit_code == 1
    assert "INVALID" in invalid.stdout
    assert "exact bytes received" in invalid.stdout


def test_verify_says_when_a_valid_signature_covers_something_else(
    env_file: Path, tmp_path: Path
) -> None:
    body = tmp_path / "odd.txt"
    body.write_bytes(b"not json")
    result = invoke([
        "webhooks", "verify", "--body-file", str(body), "--signature", sign_body(b"not json", KEY),
        "--env-file", str(env_file),
    ])  # fmt: skip
    assert result.exit_code == 0
    assert "but the body is not a Xero delivery" in result.stdout
