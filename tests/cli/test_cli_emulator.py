"""The emulator's two command forms in a subprocess: read the exports, use them, stop them.

``ams-billing emulator`` and ``python -m ams_billing.emulators.xero`` serve the same
way and stop the same way: SIGTERM (a script stopping a background job), SIGHUP and SIGINT
each end them promptly with exit 0, and the throwaway database folder goes with them.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cli_helpers import invoke, json_of, write_env

from ams_billing import Contact, load_service
from ams_billing.emulators.xero import EmulatorConfig

STARTUP = 30.0
PROMPTLY = 5.0
KNOWN_SECRET = "Env-Client-Secret-7d41c9a2"
CLI_FORM = ("-m", "ams_billing.cli", "emulator")
MODULE_FORM = ("-m", "ams_billing.emulators.xero")


class Served:
    """A running ``ams-billing emulator`` process and what it printed."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.printed: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read_until(self, marker: str) -> list[str]:
        deadline = time.monotonic() + STARTUP
        while True:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            assert line is not None, f"the emulator exited: {self.printed}"
            self.printed.append(line)
            if marker in line:
                return self.printed


@contextmanager
def emulator_process(
    *options: str,
    form: tuple[str, ...] = CLI_FORM,
    preexec_fn: Callable[[], object] | None = None,
) -> Iterator[Served]:
    env = {**os.environ, "XERO_CLIENT_SECRET": KNOWN_SECRET, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, *form, "--no-rate-limits", *options]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=preexec_fn,  # noqa: PLW1509 - sets a signal disposition only
    ) as process:
        served = Served(process)
        try:
            yield served
        finally:
            if process.poll() is None:
                process.kill()
            served.reader.join(10)


def exports(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            found[name] = value
    return found


def test_the_emulator_serves_until_terminated(tmp_path: Path) -> None:
    with emulator_process() as served:
        printed = served.read_until("control surface")
        env = exports(printed)
        assert env["XERO_CLIENT_SECRET"] == EmulatorConfig().client_secret  # its own, fake
        assert env["AMS_BILLING_SERVICE_CLASS"] == "ams.billing.providers.xero.XeroBillingService"
        assert env["XERO_API_URL"].startswith("http://127.0.0.1:")
        response = httpx.get(env["XERO_API_URL"] + "/connections", timeout=5)
        assert response.status_code == 401  # served, and wants a token
        result = invoke(
            ["check", "--env-file", str(write_env(tmp_path / "emu.env", env)), "--json"]
        )
        assert result.exit_code == 0, result.output
        assert json_of(result)["summary"]["fail"] == 0
        # Billing state of this emulator's own: a fresh emulator's books are empty, and so
        # must be the ledger; the default database would remember ids of emulators gone.
        database = Path(env["AMS_BILLING_DATABASE_URL"].removeprefix("sqlite:///"))
        assert database.parent.name.startswith("ams-billing-emulator-")
        with load_service(environ=env) as billing:
            assert billing.inbox is not None
            assert billing.inbox.engine.url.database == str(database)  # type: ignore[attr-defined]
            billing.create_contact(
                Contact("acct-1", "Ada Lovelace", "ada@example.org"), idempotency_key="c-1"
            )
        assert database.is_file()
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=10) == 0
        assert served.process.stderr is not None
        assert "stopping" in served.process.stderr.read()
    assert KNOWN_SECRET not in "".join(served.printed)
    assert "throwaway SQLite file" in "".join(served.printed)
    assert not database.parent.exists(), "the emulator's billing state goes with it"
    assert not (Path(os.environ["XDG_DATA_HOME"]) / "ams-billing").exists()


def test_the_emulator_prints_json_and_honours_its_options(tmp_path: Path) -> None:
    with emulator_process("--json", "--demo-company", "--granular", "--currency", "usd") as served:
        document = json.loads(served.read_until("{")[-1])
        env = document["environment"]
        assert env["XERO_EMAIL_INVOICES"] == "False"
        result = invoke(
            [
                "check",
                "--env-file",
                str(write_env(tmp_path / "emu.env", {**env, "XERO_CURRENCY_CODE": "USD"})),
                "--json",
            ]
        )
        served.process.terminate()
        assert served.process.wait(timeout=10) == 0
    checks = {c["id"]: c for c in json_of(result)["checks"]}
    assert result.exit_code == 0, result.output
    assert "granular scopes" in checks["scopes"]["detail"]
    assert checks["emails"]["detail"] == "Demo Company, and invoice emails are off"
    assert checks["currency"]["status"] == "pass"


def test_the_emulator_refuses_a_non_loopback_host() -> None:
    result = invoke(["emulator", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "only binds loopback addresses" in result.output


@contextmanager
def database_folder(env: dict[str, str]) -> Iterator[Path]:
    """The throwaway folder of the emulator's ``AMS_BILLING_DATABASE_URL``, gone afterwards.

    The test asserts the emulator deleted it; should it fail to, the folder is removed here
    so a failing run leaves nothing behind either.
    """
    folder = Path(env["AMS_BILLING_DATABASE_URL"].removeprefix("sqlite:///")).parent
    assert folder.name.startswith("ams-billing-emulator-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("form", [CLI_FORM, MODULE_FORM], ids=["ams-billing", "python-m"])
@pytest.mark.parametrize(
    "stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: str(s.name)
)
def test_each_stop_signal_ends_either_form_promptly_and_deletes_its_database_folder(
    form: tuple[str, ...], stop: signal.Signals
) -> None:
    with emulator_process(form=form) as served:
        env = exports(served.read_until("control surface"))
        with database_folder(env) as folder:
            assert folder.is_dir()
            # It holds a real database while the emulator runs, as an AMS would leave it.
            with load_service(environ=env) as billing:
                billing.create_contact(
                    Contact("acct-1", "Ada Lovelace", "ada@example.org"), idempotency_key="c-1"
                )
            assert any(folder.iterdir())
            sent = time.monotonic()
            served.process.send_signal(stop)
            assert served.process.wait(timeout=10) == 0
            assert time.monotonic() - sent < PROMPTLY
            assert served.process.stderr is not None
            assert f"stopping ({stop.name})" in served.process.stderr.read()
            assert not folder.exists(), f"{stop.name} left {folder} behind"


def test_a_signal_ignored_at_start_stays_ignored_as_nohup_wants() -> None:
    def ignore_sighup() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    with emulator_process(form=MODULE_FORM, preexec_fn=ignore_sighup) as served:
        env = exports(served.read_until("control surface"))
        with database_folder(env) as folder:
            served.process.send_signal(signal.SIGHUP)
            time.sleep(0.5)  # long enough for a handler to have stopped it (it polls each 0.1 s)
            assert served.process.poll() is None
            assert httpx.get(env["XERO_API_URL"] + "/connections", timeout=5).status_code == 401
            served.process.send_signal(signal.SIGTERM)
            assert served.process.wait(timeout=10) == 0
            assert not folder.exists()


def test_the_module_form_refuses_a_non_loopback_host_with_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, *MODULE_FORM, "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=STARTUP,
        check=False,
    )
    assert result.returncode == 2
    assert "only binds loopback addresses" in result.stderr
    assert "Traceback" not in result.stderr
