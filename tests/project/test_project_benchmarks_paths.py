"""BENCHMARKS.md and its result files name paths relative to the repository, never a machine's."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
# An absolute path into a machine's folders: what a reader elsewhere cannot follow.
MACHINE_PATH = re.compile(r"(?<![\w.<>])/(?:work|root|home|tmp|opt|usr|Users|var)/[^\s`'\"]*")

pytestmark = pytest.mark.skipif(
    not (BENCHMARKS / "portable.py").exists(),
    reason="benchmarks/ is not in this tree (an sdist): run from a clone of the repository",
)


def _portable() -> ModuleType:
    spec = importlib.util.spec_from_file_location("portable", BENCHMARKS / "portable.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "path",
    [ROOT / "BENCHMARKS.md", *sorted((BENCHMARKS / "results").glob("*.json"))],
    ids=lambda path: path.name,
)
def test_the_report_and_its_results_name_no_machine_paths(path: Path) -> None:
    found = MACHINE_PATH.findall(path.read_text())
    assert found == [], f"{path.name} names paths on the machine that wrote it: {found[:5]}"


@pytest.mark.parametrize(
    ("written", "portable"),
    [
        ("python /home/me/ams-billing/benchmarks/bench_parse.py --quick",
         "python benchmarks/bench_parse.py --quick"),
        ("2 0.2 /x/.nox/bench/lib/python3.11/site-packages/ams_billing/core/money.py:9(f)",
         "2 0.2 site-packages/ams_billing/core/money.py:9(f)"),
        ("20 0.7 /root/.pyenv/versions/3.11.7/lib/python3.11/json/decoder.py:343(raw_decode)",
         "20 0.7 <stdlib>/json/decoder.py:343(raw_decode)"),
        ("python /elsewhere/wt-bench/benchmarks/bench_billing.py",
         "python benchmarks/bench_billing.py"),
        ("{built-in method time.sleep}", "{built-in method time.sleep}"),
    ],
)  # fmt: skip
def test_a_result_is_written_with_portable_paths(written: str, portable: str) -> None:
    module = _portable()
    assert module.portable_text(written, Path("/home/me/ams-billing")) == portable
    assert module.portable(
        {"command": written, "runs": [written, 1]}, Path("/home/me/ams-billing")
    ) == {
        "command": portable,
        "runs": [portable, 1],
    }
