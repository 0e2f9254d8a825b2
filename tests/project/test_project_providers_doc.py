"""docs/providers.md is the generated project: each of its code blocks is an excerpt of a file.

Every ``python``, ``toml`` and ``yaml`` block of the tutorial follows a marker naming the file
of ``ams-billing new-provider acme``'s project it comes from
(``<!-- generated: src/ams_billing_acme/provider.py -->``), and must be a run of whole lines
of that file as rendered: the templates are the single source, and the page cannot drift from
what the command writes. What the page says of the fault-injection protocol is checked against
the suite's own calls.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest

import ams_billing.contracts
from ams_billing.cli.scaffold import ProjectNames, render_project

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "providers.md"
CHECKED = ("python", "toml", "yaml")
BLOCK = re.compile(
    r"(?:<!-- generated: (?P<path>\S+) -->\n)?```(?P<language>\w*)\n(?P<code>.*?)\n```", re.DOTALL
)


def blocks() -> list[tuple[str | None, str, str]]:
    text = PAGE.read_text("utf-8")
    return [(m["path"], m["language"], m["code"]) for m in BLOCK.finditer(text)]


def test_the_page_has_tutorial_blocks() -> None:
    marked = [block for block in blocks() if block[0] is not None]
    assert len(marked) >= 8
    assert {PurePosixPath(str(path)).name for path, _, _ in marked} >= {
        "client.py",
        "provider.py",
        "errors.py",
        "harness.py",
        "pyproject.toml",
        "contracts.yml",
    }


@pytest.mark.parametrize(
    ("path", "language", "code"),
    [block for block in blocks() if block[1] in CHECKED],
    ids=lambda value: str(value)[:40].replace("\n", " "),
)
def test_each_code_block_is_an_excerpt_of_the_generated_project(
    path: str | None, language: str, code: str
) -> None:
    assert path is not None, f"a {language} block without a <!-- generated: PATH --> marker"
    files = render_project(ProjectNames.of("acme"))
    source = files.get(PurePosixPath(path))
    assert source is not None, f"the generated project has no {path}: {sorted(map(str, files))}"
    lines, wanted = source.splitlines(), code.splitlines()
    starts = [i for i in range(len(lines)) if lines[i : i + len(wanted)] == wanted]
    assert starts, f"this block is not a run of whole lines of {path}:\n{code}"


def test_the_operation_names_given_to_fail_next_are_the_suite_s() -> None:
    package = Path(ams_billing.contracts.__file__).parent
    used = {
        name
        for module in package.rglob("*.py")
        for names in re.findall(r"operations=\[([^\]]*)\]", module.read_text("utf-8"))
        for name in re.findall(r'"(\w+)"', names)
    }
    assert used, "the suite passes no operation names any more: update the page"
    section = PAGE.read_text("utf-8").split("## Step 6", 1)[1].split("\n## ", 1)[0]
    listed = section.split("The suite passes", 1)[1].split("(and", 1)[0]
    assert set(re.findall(r"`(\w+)`", listed)) == used
