"""A throwaway PostgreSQL cluster on loopback for tests (tests/in_ams/postgres.sh does the work).

Without Debian's postgresql the tests that need one skip, except under CI=true, where they fail:
CI installs it (.ci/run).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "in_ams" / "postgres.sh"


@contextmanager
def throwaway_postgres(purpose: str) -> Iterator[str]:
    """Start a cluster (role and database ``ams``, password ``ams``); yield its port; stop it."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        reason = "PostgreSQL is not installed (apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}, yet CI must run the {purpose} on it")
        pytest.skip(reason)
    # Not under pytest's temporary folders: their parents are private to root, and the server
    # runs as the postgres user.
    folder = Path(tempfile.mkdtemp(prefix="ams-billing-pg-"))
    try:
        started = subprocess.run(
            ["bash", str(SCRIPT), "start", str(folder)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if started.returncode != 0:
            pytest.fail(f"postgres.sh start failed ({started.returncode}): {started.stderr}")
        yield (folder / "port").read_text().strip()
    finally:
        subprocess.run(
            ["bash", str(SCRIPT), "stop", str(folder)],
            capture_output=True,
            timeout=120,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)
