"""The contract suite's pytest plugin: ``--billing-provider`` and the ``contract`` marker.

It is a ``pytest11`` entry point, so pytest loads it in every project where ams-billing is
installed. It is therefore cheap and inert unless asked for: it imports nothing but pytest, adds
no fixture, and only

- adds the option ``--billing-provider=NAME`` (group ``ams-billing``), where NAME is an
  entry-point name in ``ams.billing.providers`` (``fake``) or a dotted class path
  (``ams.billing.providers.fake.FakeBillingService``); the zero-code run
  ``pytest --pyargs ams.billing.contracts --billing-provider=NAME`` builds each test's harness
  with that class's ``contract_harness()`` class method;
- registers the ``contract`` marker, so suites that subclass ``ProviderContract`` pass
  ``--strict-markers``;
- imports the suite's own test modules by their real names (``ams.billing.contracts.test_…``):
  ``ams`` is a namespace package, and pytest's default import mode would otherwise import them
  as ``billing.contracts.test_…`` with ``…/ams`` put on ``sys.path``, which clashes with any
  top-level ``billing`` package of the project running the suite.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ams.billing.contracts.harness import ContractHarness

__all__ = ["HARNESS_FACTORY_KEY", "OPTION"]

OPTION = "--billing-provider"
"""The command-line option naming the provider of the zero-code run."""

HARNESS_FACTORY_KEY = pytest.StashKey["Callable[[], ContractHarness]"]()
"""Where the factory resolved from ``--billing-provider`` is kept (``config.stash``)."""

_MARKER = "contract: a test of the shared ams-billing provider contract suite"
_CONTRACTS_DIR = Path(__file__).parent
# The regular packages above the ``ams`` namespace, by directory, with their real names.
_PACKAGES = {_CONTRACTS_DIR: __package__ or "ams.billing.contracts"}
_PACKAGES[_CONTRACTS_DIR.parent] = _PACKAGES[_CONTRACTS_DIR].rpartition(".")[0]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--billing-provider``."""
    group = parser.getgroup("ams-billing", "ams-billing provider contract suite")
    group.addoption(
        OPTION,
        dest="billing_provider",
        metavar="NAME",
        default=None,
        help="run `pytest --pyargs ams.billing.contracts` against this provider: an entry-point "
        "name in the group ams.billing.providers (e.g. fake) or a dotted class path; the class "
        "must have a contract_harness() class method",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; resolve ``--billing-provider`` when it is given."""
    if not any(line.split(":")[0].strip() == "contract" for line in config.getini("markers")):
        config.addinivalue_line("markers", _MARKER)
    value = config.getoption("billing_provider", default=None)
    if value:
        config.stash[HARNESS_FACTORY_KEY] = _harness_factory(value)


def _harness_factory(value: str) -> Callable[[], ContractHarness]:
    from ams.billing.core.errors import ProviderNotFoundError  # noqa: PLC0415 - only when asked
    from ams.billing.core.loading import resolve_provider_class  # noqa: PLC0415

    try:
        provider_class = resolve_provider_class(value)
    except ProviderNotFoundError as error:
        raise pytest.UsageError(f"{OPTION}: {error}") from None
    factory = getattr(provider_class, "contract_harness", None)
    if not callable(factory):
        raise pytest.UsageError(
            f"{OPTION}={value}: {provider_class.__module__}.{provider_class.__qualname__} has no "
            "contract_harness() class method, so the zero-code run cannot build a harness. Give "
            "it one that returns an ams.billing.contracts.ContractHarness, or subclass "
            "ams.billing.contracts.ProviderContract in your tests and implement make_harness()"
        )
    return factory  # type: ignore[no-any-return]


def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect this package and its parent under their real names (see the module docstring)."""
    name = _PACKAGES.get(path)
    if name is None:
        return None
    package: pytest.Collector = _NamedPackage.from_parent(parent, path=path)
    return package


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> Any:
    """Import the suite's test modules by their real names (see the module docstring)."""
    if module_path.parent != _CONTRACTS_DIR:
        return None
    return _NamedModule.from_parent(parent, path=module_path)


class _NamedPackage(pytest.Package):
    """A package of the suite, imported as part of ``ams.billing`` (it has no setup_module)."""

    def setup(self) -> None:
        importlib.import_module(_PACKAGES[self.path])


class _NamedModule(pytest.Module):
    """A test module of the suite, imported as ``ams.billing.contracts.<name>``."""

    def _getobj(self) -> ModuleType:
        module = importlib.import_module(f"{_PACKAGES[_CONTRACTS_DIR]}.{self.path.stem}")
        self.config.pluginmanager.consider_module(module)
        return module
