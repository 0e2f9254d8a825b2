"""tests/djangoapp again, on a real PostgreSQL: row locks, SKIP LOCKED, its migrations.

A throwaway cluster (tests/in_ams/postgres.sh) serves a nested pytest run of this folder with
``AMS_BILLING_TEST_POSTGRES_PORT`` set, so every store, concurrency, view, restart and task
test runs on PostgreSQL too. Skipped where PostgreSQL is not installed, except under CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_test_settings import POSTGRES_PORT_VARIABLE
from postgres_cluster import throwaway_postgres

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parent / "in_ams" / "postgres.sh"


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with throwaway_postgres("Django tests") as port:
        yield port


@pytest.mark.skipif(
    bool(os.environ.get(POSTGRES_PORT_VARIABLE)), reason="already the PostgreSQL run"
)
def test_the_django_tests_pass_on_postgresql(postgres: str, tmp_path: Path) -> None:
    env = {**os.environ, POSTGRES_PORT_VARIABLE: postgres}
    run = subprocess.run(
        [
            sys.executable, "-m", "pytest", str(HERE), "-q", "-p", "no:xdist",
            "-p", "no:randomly", "-W", "error", f"--basetemp={tmp_path / 'inner'}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=HERE.parents[1],
    )  # fmt: skip
    summary = run.stdout.strip().splitlines()[-1:] or [run.stderr[-2000:]]
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "skipped" not in summary[0] or "1 skipped" in summary[0], summary
