"""A real ``redis-server`` on a free loopback port, started for these tests and killed after."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

REDIS_SERVER = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(port: int) -> subprocess.Popen[bytes] | None:
    assert REDIS_SERVER is not None
    command = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if client.ping():
                client.close()
                return process
        except redis.exceptions.ConnectionError:
            time.sleep(0.02)
    client.close()
    process.kill()
    process.wait(timeout=5)
    return None  # the port was taken meanwhile, or the server did not come up


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` of a fresh, non-persistent redis-server."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server); CI installs it")
    for _ in range(3):
        port = _free_port()
        process = _start(port)
        if process is not None:
            break
    else:
        pytest.fail("redis-server did not answer PING within 10 s")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait(timeout=10)
