"""The import graph: every import runs down the layers, and no import closes a circle.

The layers and the rules are import-linter contracts in ``pyproject.toml``
(``[tool.importlinter]``; ``docs/architecture.md`` explains them), checked here as
``lint-imports`` checks them. The graph is grimp's: an import inside a function counts, one
under ``if TYPE_CHECKING:`` does not. import-linter's contracts see packages side by side; the
circle test below sees every module, so a circle through a package's ``__init__`` (``a`` imports
``a.b``, which imports ``a``'s names) fails too. The last tests run both checks on a small
package with one upward import and one circle, and see them fail: the checks have teeth.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

KNOWN_CIRCLES: list[list[str]] = []


def lint_imports(config: Path, *, cwd: Path, path: Path | None = None) -> tuple[int, str]:
    """Run import-linter on ``config`` in a fresh interpreter; its exit status and report."""
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), env.get("PYTHONPATH")]))
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={str(config)!r}, no_cache=True, no_logo=True))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    return done.returncode, done.stdout + done.stderr


def circles(package: str) -> list[list[str]]:
    """Every set of modules of ``package`` that import each other in a circle, sorted.

    A module that imports itself counts; imports under ``TYPE_CHECKING`` do not.
    """
    graph = grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    found = [sorted(c) for c in _strongly_connected(edges) if len(c) > 1]
    found += [[m] for m, targets in edges.items() if m in targets]
    return sorted(found)


def _strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if i < len(targets):
                work.append((node, i + 1))
                target = targets[i]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def test_every_import_runs_down_the_layers() -> None:
    status, report = lint_imports(PYPROJECT, cwd=PYPROJECT.parent)
    assert status == 0, report


def test_no_module_imports_another_in_a_circle() -> None:
    found = circles("ams_billing")
    gone = [c for c in KNOWN_CIRCLES if c not in found]
    assert not gone, f"these circles are gone: delete them from KNOWN_CIRCLES: {gone}"
    assert found == KNOWN_CIRCLES, "import circles (the modules of each):\n" + "\n".join(
        " <-> ".join(c) for c in found if c not in KNOWN_CIRCLES
    )


# The teeth: the same contracts on a small package laid out in the same layers.

PROBE = "layered_probe"


def write_probe(root: Path, modules: dict[str, str]) -> None:
    """A package ``layered_probe`` with every layer of ours, and these modules' sources."""
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    for layer in [PROBE, *(f"{PROBE}.{name.strip('()')}" for name in layers)]:
        folder = root.joinpath(*layer.split("."))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").touch()
    for dotted, source in modules.items():
        root.joinpath(*dotted.split(".")).with_suffix(".py").write_text(source)


def probe_config(root: Path) -> Path:
    """Our import-linter configuration, for the probe: our contracts, not a copy of them.

    Of the ignored imports only the contracts' own (their pytest and Hypothesis) are kept: the
    others name single modules of ours, which the probe lacks.
    """
    text = PYPROJECT.read_text()
    settings = tomllib.loads(text)["tool"]["importlinter"]
    lines = [f'root_package = "{PROBE}"', "include_external_packages = true"]
    lines.append("exclude_type_checking_imports = true")
    for contract in settings["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        for key, given in contract.items():
            value = given
            if key == "ignore_imports":
                value = [v for v in value if v.startswith("ams_billing.contracts.")]
            if isinstance(value, list):
                value = [v.replace("ams_billing", PROBE) for v in value]
            lines.append(f"{key} = {_toml(value)}")
    config = root / "probe.toml"
    config.write_text("[tool.importlinter]\n" + "\n".join(lines) + "\n")
    return config


def _toml(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value) + '"'


GOOD = {
    f"{PROBE}.core.money": "def cents() -> int:\n    return 100\n",
    f"{PROBE}.stores.sql": f"from {PROBE}.core.money import cents\n",
    f"{PROBE}.cli.main": f"from {PROBE}.stores import sql\n",
    # Only for the type checker: not an import at run time, so neither upward nor a circle.
    f"{PROBE}.core.hints": (
        "from typing import TYPE_CHECKING\n"
        f"if TYPE_CHECKING:\n    from {PROBE}.cli.main import sql\n"
    ),
    f"{PROBE}.contracts.suite": "import pytest\nimport hypothesis\n",
}


def test_the_checks_pass_a_package_that_keeps_the_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_probe(tmp_path, GOOD)
    status, report = lint_imports(probe_config(tmp_path), cwd=tmp_path, path=tmp_path)
    assert status == 0, report
    monkeypatch.syspath_prepend(str(tmp_path))
    assert circles(PROBE) == []


def test_the_checks_fail_on_an_upward_import_a_circle_and_pytest_outside_contracts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = dict(GOOD)
    # Inside a function, where a lazy import hides from a reader but not from the checks.
    bad[f"{PROBE}.core.money"] = (
        f"def cents() -> int:\n    from {PROBE}.cli.main import sql\n    return 100\n"
    )
    bad[f"{PROBE}.stores.harness"] = "import pytest\n"
    write_probe(tmp_path, bad)
    status, report = lint_imports(probe_config(tmp_path), cwd=tmp_path, path=tmp_path)
    assert status != 0, report
    assert f"{PROBE}.core is not allowed to import {PROBE}.cli" in report
    assert f"{PROBE}.core.money -> {PROBE}.cli.main" in report
    assert f"{PROBE}.stores is not allowed to import pytest" in report
    assert f"No cycles are allowed in {PROBE}." in report  # core, stores and cli, side by side
    monkeypatch.syspath_prepend(str(tmp_path))
    assert circles(PROBE) == [[f"{PROBE}.cli.main", f"{PROBE}.core.money", f"{PROBE}.stores.sql"]]
