"""The crash soak, small, as a real subprocess: killed workers and webhook servers lose nothing.

``nox -s soak`` runs it at full size on SQLite and PostgreSQL; here a few members on SQLite, with
a couple of kills of each kind, so CI runs the real processes, the real SIGKILLs and the audit.
Each test runs on Xero (the clock jumps past its 6-minute key window after each worker kill) and
on Stripe (past its 24-hour window).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SOAK = Path(__file__).resolve().parents[2] / "soak" / "crash_soak.py"
HELD_INVOICE = "worker, create_invoice applied and its answer held"


PROVIDERS = pytest.mark.parametrize("provider", ["xero", "stripe"])


def crash_soak(tmp_path: Path, provider: str, *extra: str) -> tuple[int, dict[str, Any], str]:
    """Run the crash soak; (exit code, its JSON report, its output)."""
    report = tmp_path / "report.json"
    command = [sys.executable, str(SOAK), "--provider", provider, "--store", "sqlite",
               "--members", "14", "--workers", "2", "--budget", "240", "--json", str(report),
               *extra]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=400)
    finally:
        if process.poll() is None:  # bounded: its own budget failed, so stop its process group
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    (data,) = json.loads(report.read_text())
    return process.returncode, data, output


@PROVIDERS
def test_killed_workers_and_webhook_servers_lose_and_duplicate_nothing(
    tmp_path: Path, provider: str
) -> None:
    code, report, output = crash_soak(
        tmp_path, provider, "--kills", "1", "--hold-kills", "2", "--webhook-kills", "1"
    )
    assert report["problems"] == [], output[-3000:]
    assert code == 0
    for count in ("duplicates", "lost", "orphans", "emailed_twice", "unprocessed_acknowledged",
                  "paid_never_reported", "regressions", "worker_problems"):  # fmt: skip
        assert report[count] == 0, count
    # The kills really happened: a create applied while its answer was held, a random one,
    # and the webhook servers after their 200; each worker kill moved the provider's clock past
    # its key window (Xero: 6 minutes; Stripe: 24 hours).
    kills = report["kills"]
    assert sum(count for moment, count in kills.items() if "answer held" in moment) >= 1
    assert kills["worker, at a random moment"] == 1
    assert kills["webhook server, after its last 200 (final)"] == 2
    assert report["faults_injected"]["response held (client killed, or timed out)"] >= 1
    # One jump per worker kill.
    assert report["restarts"]["worker"] == report["clock_jumps"] >= 2
    assert report["members"] == 14
    assert report["provider"] == provider
    assert report["member_runs"] > 14  # killed members were run again
    # Paid members' invoices went through the inbox; the CLI drained what the kills left.
    assert report["operations"]["listener told"] > 0
    assert report["cli_drain"][-1]["exit"] == 0
    assert report["cli_drain"][-1]["pending"] == 0


@PROVIDERS
def test_a_random_worker_kill_comes_before_the_work_is_done_even_when_its_moment_is_late(
    tmp_path: Path, provider: str
) -> None:
    # Random kills timed 10 minutes apart: the workers are done long before. The first one
    # still comes, once a seeded few members are finished, at a worker with members left.
    code, report, output = crash_soak(
        tmp_path, provider, "--kills", "1", "--kill-gap", "600", "--hold-kills", "0",
        "--webhook-kills", "0",
    )  # fmt: skip
    assert report["problems"] == [], output[-3000:]
    assert code == 0
    assert report["kills"].get("worker, at a random moment") == 1, report["kills"]
    assert report["restarts"]["worker"] == report["clock_jumps"] == 1
    assert report["lost"] == report["duplicates"] == report["emailed_twice"] == 0


@PROVIDERS
def test_the_audit_catches_a_duplicate_from_a_ledger_kept_in_memory(
    tmp_path: Path, provider: str
) -> None:
    # The same kill with the provider's ledger in memory: the restarted worker has forgotten
    # the key, the provider's key window has passed, so the retry raises a second invoice.
    code, report, _ = crash_soak(
        tmp_path, provider, "--memory-ledger", "--kills", "0", "--hold-kills", "1",
        "--webhook-kills", "0",
    )  # fmt: skip
    assert report["kills"][HELD_INVOICE] == 1
    assert report["duplicates"] >= 1
    assert any(p.startswith("duplicate invoice CRASH-") for p in report["problems"])
    assert code == 1
