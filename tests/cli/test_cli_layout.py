"""Values are never cut: in a pipe or a narrow terminal, the layout wraps around them.

A table squeezed into 80 columns used to cut the one value a user came to copy (``sqlite:////
tmp/ams-billing-emulator-…/billi…``). These run the real commands, with stdout a pipe or a
pseudo-terminal, and look for each long value whole on one line.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from cli_helpers import running_emulator, write_env
from rich.text import Text

from ams_billing.cli.layout import wrap_words
from ams_billing.emulators.xero import EmulatorConfig

TIMEOUT = 60.0
WEBHOOK_KEY = "wK5d8Jr2TqXe7Nb4MzUa6Gc1"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def long_database_url(tmp_path: Path, *parts: str) -> str:
    folder = tmp_path.joinpath(
        "a-rather-long-folder-for-the-billing-state-of-this-association", *parts
    )
    return f"sqlite:///{folder / 'billing.sqlite3'}"


def command_env(columns: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), *sys.path]))
    env["NO_COLOR"] = "1"
    if columns is not None:
        env["COLUMNS"] = columns
    return env


def run_piped(args: list[str], env: Mapping[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ams_billing.cli", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=dict(env),
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.stdout


def run_in_terminal(args: list[str], env: Mapping[str, str]) -> str:
    """The command's stdout when it is a (pseudo-)terminal, colour codes removed."""
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "ams_billing.cli", *args],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=dict(env),
    ) as process:
        os.close(follower)
        chunks: list[bytes] = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command exited and closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        assert process.wait(timeout=TIMEOUT) in (0, 1)
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


def lines_with(output: str, value: str) -> list[str]:
    return [line for line in output.splitlines() if value in line]


@pytest.mark.parametrize("columns", ["40", "80", None], ids=["40", "80", "unset"])
def test_check_in_a_pipe_keeps_the_database_url_whole_on_one_line(
    tmp_path: Path, columns: str | None
) -> None:
    url = long_database_url(tmp_path)
    with running_emulator() as xero:
        env_file = write_env(tmp_path / "e.env", {**xero.env, "AMS_BILLING_DATABASE_URL": url})
        output = run_piped(["check", "--env-file", str(env_file)], command_env(columns))
    assert lines_with(output, url), output
    assert "…" not in output
    assert "ams.billing.providers.xero.XeroBillingService" in output
    assert "14 passed, 0 warned, 0 failed, 0 skipped; exit 0" in output
    if columns is not None:  # prose still wraps to the width: only a longer word overflows
        for line in output.splitlines()[1:-1]:
            assert len(line) <= int(columns) or len(line.split()) == 1, line


@pytest.mark.parametrize(("columns", "table"), [("60", False), ("250", True)])
def test_check_in_a_terminal_keeps_the_database_url_whole_on_one_line(
    tmp_path: Path, columns: str, table: bool
) -> None:
    url = long_database_url(tmp_path)
    with running_emulator() as xero:
        env_file = write_env(tmp_path / "e.env", {**xero.env, "AMS_BILLING_DATABASE_URL": url})
        output = run_in_terminal(["check", "--env-file", str(env_file)], command_env(columns))
    assert lines_with(output, url), output
    assert "…" not in output
    assert ("┃" in output) is table  # a table only when it cuts nothing


def test_a_secret_inside_a_long_value_is_still_redacted(tmp_path: Path) -> None:
    url = long_database_url(tmp_path, f"key-{WEBHOOK_KEY}-folder")
    config = EmulatorConfig(rate_limits=False, webhook_key=WEBHOOK_KEY)
    with running_emulator(config) as xero:
        env_file = write_env(tmp_path / "e.env", {**xero.env, "AMS_BILLING_DATABASE_URL": url})
        output = run_piped(["check", "--env-file", str(env_file)], command_env("40"))
    assert lines_with(output, url.replace(WEBHOOK_KEY, "[redacted]")), output
    assert not any(WEBHOOK_KEY[i : i + 8] in output for i in range(len(WEBHOOK_KEY) - 7))


def test_providers_in_a_pipe_keeps_a_long_class_path_whole(tmp_path: Path) -> None:
    package = tmp_path / "association_billing_providers"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "for_members_of_this_association.py").write_text(
        "from cli_helpers import OwnFake\n", encoding="utf-8"
    )
    target = "association_billing_providers.for_members_of_this_association:OwnFake"
    env = command_env("40")
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    env_file = write_env(tmp_path / "e.env", {"AMS_BILLING_SERVICE_CLASS": target})
    output = run_piped(["providers", "--env-file", str(env_file)], env)
    assert lines_with(output, target), output
    assert "…" not in output


def test_wrapping_breaks_between_words_and_never_inside_one() -> None:
    text = Text("short words then " + "x" * 30 + " and more short words here")
    lines = [line.plain for line in wrap_words(text, 20, rest=4)]
    assert lines == [
        "short words then",
        "    " + "x" * 30,
        "    and more short",
        "    words here",
    ]
    assert wrap_words(Text("one\ntwo"), 20, first=2, rest=2)[1].plain == "  two"
