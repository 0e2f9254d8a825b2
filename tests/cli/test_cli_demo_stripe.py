"""``ams-billing demo --provider stripe``: the whole flow on the Stripe emulator, as a process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from ams_billing.cli.commands.demo import ENVIRONMENTS


def run_demo(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ams_billing.cli", "demo", "--provider", "stripe", *extra],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_stripe_demo_runs_the_whole_flow_and_exits_zero() -> None:
    done = run_demo()
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Stripe emulator at http://127.0.0.1:" in out
    steps = [line.split()[1].rstrip(":") for line in out.splitlines() if "  ok  " in line]
    assert steps[:6] == ["webhook", "membership", "contact", "invoice", "email", "pay"]
    assert "FAIL" not in out
    assert re.search(r"contact: Ada Lovelace <ada@example.org> is contact cus_\w+", out)
    assert re.search(r"invoice: \S+ OPEN, USD 120\.00", out)  # finalized: open
    assert "email: sent to ada@example.org" in out  # /send applied
    assert re.search(r"pay link: http://127\.0\.0\.1:\d+/_emulator/hosted/in_\w+", out)
    # Paid out of band; the signed invoice.paid delivery came in over HTTP and was processed.
    assert re.search(r"sync: invoice \S+ is PAID \(paid\)", out)
    assert "is marked paid" in out
    throwaway = re.search(r"throwaway SQLite file, (\S+\.sqlite3), deleted afterwards", out)
    assert throwaway is not None
    assert not Path(throwaway.group(1)).parent.exists()
    secret = re.search(r"whsec_\w+", out + done.stderr)
    assert secret is None  # the endpoint's signing secret is never shown


def test_the_stripe_demo_json_lists_every_step() -> None:
    done = run_demo("--json")
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert document["ok"] is True
    assert document["provider"] == "stripe"
    assert all(step["ok"] for step in document["steps"])
    assert document["steps"][-1]["step"] == "membership"


def test_the_demo_offers_stripe() -> None:
    assert "stripe" in ENVIRONMENTS
