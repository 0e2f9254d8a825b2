"""README's session table is what ``nox -l`` lists: every session, and which ``nox`` runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def nox_sessions() -> dict[str, bool]:
    """Each session ``nox -l`` lists → whether bare ``nox`` runs it (marked ``*``)."""
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "-f", str(ROOT / "noxfile.py")],
        capture_output=True, text=True, timeout=120, check=True, cwd=ROOT,
    )  # fmt: skip
    _, _, sessions = listed.stdout.partition("Sessions defined in")
    found: dict[str, bool] = {}
    for mark, name in re.findall(r"^([*-]) (\w+)", sessions, re.MULTILINE):
        found[name] = found.get(name, False) or mark == "*"  # contracts(provider=...) is one
    return found


def readme_sessions() -> dict[str, bool]:
    """Each session in README's table under "## Development" → its "In `nox`" column."""
    text = (ROOT / "README.md").read_text("utf-8")
    section = text.split("\n## Development\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (yes|no) \|", section, re.MULTILINE)
    assert len(rows) == len({name for name, _ in rows}), f"a session twice in README: {rows}"
    return {name: default == "yes" for name, default in rows}


def test_readme_lists_every_session_and_the_default_run():
    listed = nox_sessions()
    assert {"lint", "tests", "build", "mutation"} <= listed.keys(), listed  # parsed at all
    assert readme_sessions() == listed


def test_the_build_is_in_the_default_run():
    assert nox_sessions()["build"], "nox must build and check the release on every run"
