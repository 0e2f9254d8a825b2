"""Starting worker processes on the test database, with bounded waits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a worker process: worker_settings on this test's database."""
    keys = ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")
    database = {
        key: connection.settings_dict[key] for key in keys if key in connection.settings_dict
    }
    path = os.pathsep.join([str(HERE), str(SRC), os.environ.get("PYTHONPATH", "")])
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "worker_settings",
        "AMS_BILLING_TEST_DATABASE": json.dumps(database),
        "PYTHONPATH": path,
        **extra,
    }


def start(*args: str, **extra: str) -> subprocess.Popen[str]:
    """``python store_racer.py ARGS`` in a new process."""
    return subprocess.Popen(
        [sys.executable, str(HERE / "store_racer.py"), *args],
        env=worker_env(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def results(process: subprocess.Popen[str], timeout: float = 120) -> list[object]:
    """The JSON a racer printed; kills it past ``timeout`` seconds."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    assert process.returncode == 0, err
    return json.loads(out)  # type: ignore[no-any-return]
