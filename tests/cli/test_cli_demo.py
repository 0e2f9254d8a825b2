from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from ams_billing import AmountType, BillingService
from ams_billing.cli import ENVIRONMENTS, main
from ams_billing.cli.demo.flow import DemoEnvironment, handled_in_process, run_demo
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing import SignedDelivery
from ams_billing.testing.fake import FakeDriver


def steps_of(output: str) -> list[str]:
    return [line.split()[1].rstrip(":") for line in output.splitlines() if "  ok  " in line]


def test_demo_on_the_fake_runs_every_step_and_exits_zero() -> None:
    result = CliRunner().invoke(main, ["demo", "--provider", "fake"])
    assert result.exit_code == 0, result.output
    assert steps_of(result.output) == [
        "membership", "contact", "invoice", "email", "pay", "payment", "webhook", "sync",
        "membership",
    ]  # fmt: skip
    assert "FAIL" not in result.output
    assert "marked paid" in result.output


def test_demo_defaults_to_the_xero_provider_against_the_emulator_over_http() -> None:
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    assert "Xero emulator at http://127.0.0.1:" in result.output
    steps = steps_of(result.output)
    assert steps[0] == "webhook"
    assert "Intent-to-Receive passed" in result.output
    assert steps[1:5] == ["membership", "contact", "invoice", "email"]
    assert "sent to ada@example.org" in result.output
    assert "https://in.xero.com/" in result.output
    assert steps[-1] == "membership"
    assert "FAIL" not in result.output
    # Its state is durable, but in a file of its own: each run's emulator is fresh, and a
    # ledger kept in the default database would replay ids from an emulator that is gone.
    throwaway = re.search(
        r"throwaway SQLite file, (\S+\.sqlite3), deleted afterwards", result.output
    )
    assert throwaway is not None, result.output
    assert not Path(throwaway.group(1)).parent.exists()
    assert not (Path(os.environ["XDG_DATA_HOME"]) / "ams-billing").exists()


def test_the_demo_bills_as_the_provider_is_configured() -> None:
    # The fake demo is configured as the setup guide configures Xero: amounts include tax.
    result = CliRunner().invoke(main, ["demo", "--provider", "fake"])
    assert "NZD 120.00 (inclusive, tax 15.65)" in result.output, result.output
    # Configured otherwise, the same flow bills otherwise: the request names no amount type.
    provider = FakeProvider(default_amount_type=AmountType.EXCLUSIVE)
    service = BillingService(provider)
    driver = FakeDriver(provider)
    environment = DemoEnvironment(
        service, driver, handled_in_process(service, driver), "a fake adding tax"
    )
    lines: list[str] = []
    assert run_demo(environment, lines.append) is True, lines
    assert any("NZD 138.00 (exclusive, tax 18.00)" in line for line in lines), lines


def test_the_demo_passes_twice_in_a_row() -> None:
    # The second run meets the same idempotency keys with a fresh emulator: it must not
    # replay the first run's ids.
    for _ in range(2):
        result = CliRunner().invoke(main, ["demo"])
        assert result.exit_code == 0, result.output


class SilentDriver(FakeDriver):
    """The fake accounting system never calls the webhook back."""

    def take_webhook_deliveries(self) -> list[SignedDelivery]:
        super().take_webhook_deliveries()
        return []


class TamperingDriver(FakeDriver):
    """Deliveries arrive with a body that no longer matches the signature."""

    def take_webhook_deliveries(self) -> list[SignedDelivery]:
        return [SignedDelivery(d.body + b" ", d.headers) for d in super().take_webhook_deliveries()]


@pytest.mark.parametrize(("driver_class", "why"), [
    (SilentDriver, "sent no webhook delivery"),
    (TamperingDriver, "the endpoint answered 401"),
])  # fmt: skip
def test_demo_fails_when_a_step_does_not_hold(driver_class: type[FakeDriver], why: str) -> None:
    provider = FakeProvider()
    service = BillingService(provider)
    driver = driver_class(provider)
    environment = DemoEnvironment(
        service, driver, handled_in_process(service, driver), "a broken fake"
    )
    lines: list[str] = []
    assert run_demo(environment, lines.append) is False
    assert any("FAIL" in line and why in line for line in lines), lines


def test_the_cli_exits_non_zero_when_the_flow_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    @contextmanager
    def broken() -> Iterator[DemoEnvironment]:
        provider = FakeProvider()
        service = BillingService(provider)
        driver = SilentDriver(provider)
        yield DemoEnvironment(service, driver, handled_in_process(service, driver), "broken")

    monkeypatch.setitem(ENVIRONMENTS, "fake", broken)
    assert CliRunner().invoke(main, ["demo", "--provider", "fake"]).exit_code == 1


def test_demo_json_lists_each_step() -> None:
    result = CliRunner().invoke(main, ["demo", "--provider", "fake", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == [
        "ok",
        "exit_code",
        "provider",
        "description",
        "steps",
        "elapsed_seconds",
    ]
    assert document["ok"] is True
    assert document["provider"] == "fake"
    assert [step["step"] for step in document["steps"]] == [
        "membership", "contact", "invoice", "email", "pay link", "payment", "webhook", "sync",
        "membership",
    ]  # fmt: skip
    assert all(step["ok"] for step in document["steps"])


def test_demo_json_reports_the_failed_step(monkeypatch: pytest.MonkeyPatch) -> None:
    @contextmanager
    def broken() -> Iterator[DemoEnvironment]:
        provider = FakeProvider()
        service = BillingService(provider)
        driver = SilentDriver(provider)
        yield DemoEnvironment(service, driver, handled_in_process(service, driver), "broken")

    monkeypatch.setitem(ENVIRONMENTS, "fake", broken)
    result = CliRunner().invoke(main, ["demo", "--provider", "fake", "--json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    failed = [step for step in document["steps"] if not step["ok"]]
    assert failed[0]["step"] == "webhook"
    assert "sent no webhook delivery" in failed[0]["detail"]


@pytest.mark.parametrize(
    "stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: str(s.name)
)
def test_a_demo_stopped_by_a_signal_exits_130_and_deletes_its_folder(stop: signal.Signals) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "ams_billing.cli", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()  # printed once the environment is up
            throwaway = re.search(r"throwaway SQLite file, (\S+\.sqlite3),", first)
            assert throwaway is not None, first
            folder = Path(throwaway.group(1)).parent
            # The flow runs for a few tenths of a second more: stop it in the middle.
            process.send_signal(stop)
            _, errors = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    try:
        assert process.returncode == 130, errors
        assert "interrupted" in errors
        assert not folder.exists(), f"{stop.name} left {folder} behind"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
