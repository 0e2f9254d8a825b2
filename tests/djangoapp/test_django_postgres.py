"""tests/djangoapp again, on a real PostgreSQL: row locks, SKIP LOCKED, its migrations.

A throwaway cluster (tests/in_ams/postgres.sh) serves a nested pytest run of this folder with
``AMS_BILLING_TEST_POSTGRES_PORT`` set, so every store, concurrency, view, restart and task
test runs on PostgreSQL too. Skipped where PostgreSQL is not installed, except under CI.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_test_settings import POSTGRES_PORT_VARIABLE

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parent / "in_ams" / "postgres.sh"


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        reason = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the Django tests on PostgreSQL")
        pytest.skip(reason)
    # Not under pytest's temporary folder: its parents are private to root, and the server
    # runs as the postgres user.
    folder = Path(tempfile.mkdtemp(prefix="ams-billing-django-pg-"))
    started = subprocess.run(
        ["bash", str(SCRIPT), "start", str(folder)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    try:
        yield (folder / "port").read_text().strip()
    finally:
        subprocess.run(
            ["bash", str(SCRIPT), "stop", str(folder)],
            capture_output=True,
            timeout=120,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)


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
