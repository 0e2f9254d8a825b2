"""Where test support lives: ams_billing.testing, ams_billing/emulators/xero, contracts/suites.

The production client of each provider imports no test support; the emulator proper imports no
provider and no test support; ``ams_billing.testing`` needs neither pytest nor Hypothesis; the
zero-code run collects one module; the old import paths still work, with a DeprecationWarning.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import ams_billing
from ams_billing.contracts.plugin import HARNESS_GROUP, _registered_harness
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing.fake import restartable_harness

PACKAGE = Path(ams_billing.__file__).parent


def loaded_after_import(module: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules starting with ``prefixes`` that importing ``module`` loads, in a new process."""
    probe = (
        f"import sys, {module}\n"
        f"print('\\n'.join(m for m in sys.modules if m.startswith({prefixes!r})))"
    )
    return subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()


@pytest.mark.parametrize(
    "module",
    [
        "ams_billing.testing",
        "ams_billing.testing.fake",
        "ams_billing.testing.scratch",
        "ams_billing.emulators.xero.harness",
        "ams_billing.emulators.xero.live",
    ],
)
def test_test_support_imports_without_pytest_or_hypothesis(module: str) -> None:
    assert loaded_after_import(module, ("pytest", "_pytest", "hypothesis")) == []


@pytest.mark.parametrize("module", ["ams_billing.emulators.xero", "ams_billing.emulators"])
def test_the_emulator_imports_no_provider_and_no_test_support(module: str) -> None:
    up = ("ams_billing.providers", "ams_billing.testing", "ams_billing.contracts", "pytest")
    assert loaded_after_import(module, up) == []


@pytest.mark.parametrize("module", ["ams_billing.providers.fake", "ams_billing.providers.xero"])
def test_a_provider_imports_no_emulator_and_no_test_support(module: str) -> None:
    up = ("ams_billing.emulators", "ams_billing.testing", "ams_billing.contracts")
    assert loaded_after_import(module, up) == []


OLD_FIXTURES_PATH = "providers/xero/emulator/testing.py"
"""The one shim that must import its new home eagerly: pytest reads fixtures from the module."""


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_harness_lives_under_providers() -> None:
    # Not even inside a function: the old paths left there forward lazily
    # (ams_billing.core.deprecation).
    up = ("ams_billing.testing", "ams_billing.contracts", "ams_billing.emulators")
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            m for m in imported_modules(path) if m.startswith(up)
        )
        for path in (PACKAGE / "providers").rglob("*.py")
        if path.relative_to(PACKAGE).as_posix() != OLD_FIXTURES_PATH
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_zero_code_run_collects_one_module() -> None:
    # The mixins are library code; only test_contract.py assembles them for pytest.
    named_like_tests = sorted(p.name for p in PACKAGE.rglob("test_*.py"))
    assert named_like_tests == ["test_contract.py"]
    assert (PACKAGE / "contracts" / "test_contract.py").is_file()


def test_the_fakes_harness_is_registered_as_an_entry_point() -> None:
    (entry,) = [ep for ep in entry_points(group=HARNESS_GROUP) if ep.name == "fake"]
    assert entry.load() is restartable_harness
    assert _registered_harness(FakeProvider) is restartable_harness


def test_the_xero_harness_entry_point_names_the_emulators_home() -> None:
    (entry,) = [ep for ep in entry_points(group=HARNESS_GROUP) if ep.name == "xero"]
    assert entry.value == "ams_billing.emulators.xero.harness:in_process_harness"


MOVED = [
    ("ams_billing.providers.xero.emulator", "XeroEmulator", "ams_billing.emulators.xero"),
    ("ams_billing.providers.xero.emulator", "EmulatorServer", "ams_billing.emulators.xero"),
    (
        "ams_billing.providers.xero.testing",
        "in_process_harness",
        "ams_billing.emulators.xero.harness",
    ),
    (
        "ams_billing.providers.xero.contract_driver",
        "EmulatorContractMethods",
        "ams_billing.emulators.xero.driver",
    ),
    ("ams_billing.providers.xero.live", "live_harness", "ams_billing.emulators.xero.live"),
    ("ams_billing.providers.fake.testing", "restartable_harness", "ams_billing.testing.fake"),
    ("ams_billing.contracts.harness", "ContractHarness", "ams_billing.testing.harness"),
    ("ams_billing.contracts.harness", "SignedDelivery", "ams_billing.testing.harness"),
    ("ams_billing.contracts.scratch", "ScratchStores", "ams_billing.testing.scratch"),
]


@pytest.mark.parametrize(("old", "name", "new"), MOVED, ids=lambda v: v)
def test_an_old_path_still_works_with_a_deprecation_warning(old: str, name: str, new: str) -> None:
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=rf"{old} moved to {new}: import {name} from"):
        value = getattr(module, name)
    assert value is getattr(importlib.import_module(new), name)


def test_an_old_path_without_the_name_raises_attribute_error() -> None:
    module = importlib.import_module("ams_billing.contracts.harness")
    with pytest.raises(AttributeError, match="has no attribute 'Nothing'"):
        module.Nothing  # noqa: B018


def test_the_old_fixtures_module_still_loads_the_fixtures_with_a_warning() -> None:
    sys.modules.pop("ams_billing.providers.xero.emulator.testing", None)
    with pytest.warns(DeprecationWarning, match="moved to ams_billing.contracts.xero_emulator"):
        old = importlib.import_module("ams_billing.providers.xero.emulator.testing")
    new = importlib.import_module("ams_billing.contracts.xero_emulator")
    for name in new.__all__:
        assert getattr(old, name) is getattr(new, name), name


@pytest.mark.parametrize(
    ("module", "warned"),
    [("ams_billing.emulators.xero", False), ("ams_billing.providers.xero.emulator", True)],
)
def test_the_emulator_runs_as_a_module_old_path_warning(module: str, warned: bool) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--webhook-url" in result.stdout
    assert ("DeprecationWarning" in result.stderr) is warned, result.stderr
    if warned:
        assert "python -m ams_billing.emulators.xero" in result.stderr
