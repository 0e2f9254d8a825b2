"""``ams-billing --help`` and every group's help: each command once, each described apart.

A newcomer reads the command list first. Two entries with one description (``webhook`` and
``webhooks`` were the same group) or a description cut off mid-sentence leave them guessing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from cli_helpers import invoke, write_env

from ams_billing.cli import main
from ams_billing.core.signing import sign_body

NARROW = {"COLUMNS": "80"}
KEY = "a-webhook-key-for-the-alias-test"


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every command and group under ``group``, hidden ones included."""
    for name, command in sorted(group.commands.items()):
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


def listing(help_text: str) -> dict[str, str]:
    """The ``Commands:`` section of a group's help, as name → description."""
    section = help_text.split("Commands:\n", 1)[1]
    rows = [re.match(r"  (\S+)\s+(.*)", line) for line in section.splitlines()]
    return {row[1]: row[2] for row in rows if row is not None}


def resolve(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def test_the_top_level_help_lists_webhooks_once() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ams_billing.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, **NARROW},
    )
    assert result.stdout.startswith("Usage: ams-billing ")
    listed = listing(result.stdout)
    assert list(listed) == [
        "check", "db", "demo", "emulator", "new-provider", "providers", "sync", "webhooks",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "group",
    [(), *(path for path in commands(main) if isinstance(resolve(path), click.Group))],
    ids=lambda path: " ".join(path) or "ams-billing",
)
def test_every_listing_describes_each_command_whole_and_apart(group: tuple[str, ...]) -> None:
    result = invoke([*group, "--help"], env=NARROW)
    assert result.exit_code == 0, result.output
    listed = listing(result.stdout)
    assert listed, result.stdout
    for name, description in listed.items():
        assert description, f"{name} has no description"
        assert not description.endswith("..."), f"{name}'s description is cut: {description}"
    assert len(set(listed.values())) == len(listed), listed


@pytest.mark.parametrize("path", list(commands(main)), ids=" ".join)
def test_every_command_and_option_has_help(path: tuple[str, ...]) -> None:
    command = resolve(path)
    assert (command.help or "").strip(), f"{' '.join(path)} has no help"
    for parameter in command.params:
        if isinstance(parameter, click.Option):
            assert (parameter.help or "").strip(), f"{' '.join(path)} {parameter.opts[0]}"


def test_the_old_webhook_spelling_is_hidden_but_works_with_a_warning(tmp_path: Path) -> None:
    env_file = write_env(tmp_path / "e.env", {"XERO_WEBHOOK_KEY": KEY})
    body = tmp_path / "body.json"
    body.write_bytes(b'{"events": []}')
    args = ["verify", "--body-file", str(body), "--signature", sign_body(body.read_bytes(), KEY)]
    args += ["--env-file", str(env_file), "--json"]
    old = invoke(["webhook", *args])
    new = invoke(["webhooks", *args])
    assert old.exit_code == new.exit_code == 0, old.output
    assert json.loads(old.stdout) == json.loads(new.stdout)  # stdout stays one JSON document
    assert "deprecated" in old.stderr
    assert "use `ams-billing webhooks`" in old.stderr
    assert new.stderr == ""
    assert "webhook " not in invoke(["--help"]).stdout
