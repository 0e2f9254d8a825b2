"""The fault soak at CI size: every fault, nothing lost, nothing duplicated.

``nox -s soak`` runs the full size (10,000 operations per provider and seed); this runs 1,000
operations for two seeds on every test run, with the same audit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import soak as soak_runner

from ams_billing.emulators.xero import FaultKind
from ams_billing.providers.fake import FakeProvider

OPERATIONS = 1000
SEEDS = (1, 2)


@pytest.fixture(autouse=True)
def quiet_retries() -> Iterator[None]:
    # Thousands of "retrying" warnings are expected here; keep pytest's log capture small.
    logging.getLogger("ams_billing").setLevel(logging.ERROR)
    yield
    logging.getLogger("ams_billing").setLevel(logging.NOTSET)


def assert_clean(report: soak_runner.SoakReport) -> None:
    assert report.problems == []
    assert report.duplicates == 0
    assert report.lost == 0
    assert report.orphans == 0
    assert report.emailed_twice == 0
    assert report.unpaid_in_listener == 0
    assert report.regressions_from_paid == 0
    assert not report.untyped_errors
    assert report.operations >= OPERATIONS


@pytest.mark.parametrize("seed", SEEDS)
def test_xero_soak_against_the_emulator_loses_and_duplicates_nothing(seed: int) -> None:
    report = soak_runner.run_soak("xero", OPERATIONS, seed)
    assert_clean(report)
    # Every fault the emulator has was really injected, and the run went through them.
    for kind in FaultKind:
        assert report.faults_injected[kind.value] > 0, kind
    assert report.token_expired_401 > 0
    assert report.tokens_minted > 1
    assert report.webhook_deliveries["duplicated"] > 0
    assert report.webhook_deliveries["dropped"] > 0
    assert report.webhook_deliveries["answered_401"] == 0
    assert report.typed_errors  # the caller did see failures, and retried them
    assert report.retries > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_fake_soak_with_fail_next_loses_and_duplicates_nothing(seed: int) -> None:
    report = soak_runner.run_soak("fake", OPERATIONS, seed)
    assert_clean(report)
    assert report.faults_injected["ProviderUnavailableError after apply"] > 0
    assert report.faults_injected["ProviderUnavailableError"] > 0
    assert report.faults_injected["RateLimitedError"] > 0
    assert report.webhook_deliveries["duplicated"] > 0
    assert report.retries > 0


def test_the_same_seed_gives_the_same_run() -> None:
    first = soak_runner.run_soak("xero", 300, 5).as_dict()
    second = soak_runner.run_soak("xero", 300, 5).as_dict()
    for volatile in ("wall_seconds",):
        first.pop(volatile)
        second.pop(volatile)
    assert first == second


def test_the_audit_has_teeth(monkeypatch: pytest.MonkeyPatch) -> None:
    # A provider that forgets its idempotency keys duplicates on every retry after apply.
    def forgetful(self: FakeProvider, operation: str, key: str, request: Any) -> tuple[Any, bool]:
        result = self._apply(operation, request, f"{key}#{uuid.uuid4()}")
        self._fail_after_apply(operation)
        return result

    monkeypatch.setattr(FakeProvider, "_keyed", forgetful)
    report = soak_runner.run_soak("fake", 400, 1)
    assert report.duplicates > 0 or report.emailed_twice > 0
    assert not report.ok


def test_the_command_line_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert soak_runner.main(["--provider", "fake", "--operations", "200", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "| duplicates | 0 |" in out
    assert "| lost | 0 |" in out
