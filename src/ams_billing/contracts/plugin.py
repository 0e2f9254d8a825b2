"""The contract suite's pytest plugin: ``--billing-provider`` and the ``contract`` marker.

It is a ``pytest11`` entry point, so pytest loads it in every project where ams-billing is
installed. It is therefore inert unless asked for: it adds no fixture, collects nothing, and
imports only pytest and :mod:`ams_billing` (its own package, not the suite's Hypothesis
strategies), which owns no top-level name of the project under test. It only

- adds the option ``--billing-provider=NAME`` (group ``ams-billing``), where NAME is an
  entry-point name in ``ams_billing.providers`` (``fake``) or a dotted class path
  (``ams_billing.providers.fake.FakeProvider``); the zero-code run
  ``pytest --pyargs ams_billing.contracts --billing-provider=NAME`` builds each test's harness
  with the factory registered for that provider under the entry-point group
  ``ams_billing.contract_harnesses`` (so the provider's own module never imports test code),
  else with the class's ``contract_harness()`` class method;
- registers the ``contract`` marker, so suites that subclass ``ProviderContract`` pass
  ``--strict-markers``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ams_billing.testing.harness import ContractHarness

__all__ = ["HARNESS_FACTORY_KEY", "HARNESS_GROUP", "OPTION"]

OPTION = "--billing-provider"
"""The command-line option naming the provider of the zero-code run."""

HARNESS_FACTORY_KEY = pytest.StashKey["Callable[[], ContractHarness]"]()
"""Where the factory resolved from ``--billing-provider`` is kept (``config.stash``)."""

HARNESS_GROUP = "ams_billing.contract_harnesses"
"""Entry-point group of contract harness factories, named as the providers they test."""

_MARKER = "contract: a test of the shared ams-billing provider contract suite"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--billing-provider``."""
    group = parser.getgroup("ams-billing", "ams-billing provider contract suite")
    group.addoption(
        OPTION,
        dest="billing_provider",
        metavar="NAME",
        default=None,
        help="run `pytest --pyargs ams_billing.contracts` against this provider: an entry-point "
        "name in the group ams_billing.providers (e.g. fake) or a dotted class path; the class "
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
    from ams_billing.assembly.loading import resolve_provider_class  # noqa: PLC0415
    from ams_billing.core.errors import ProviderNotFoundError  # noqa: PLC0415 - only when asked

    try:
        provider_class = resolve_provider_class(value, setting=OPTION)
    except ProviderNotFoundError as error:
        raise pytest.UsageError(f"{OPTION}: {error}") from None
    factory = _registered_harness(provider_class) or getattr(
        provider_class, "contract_harness", None
    )
    if not callable(factory):
        raise pytest.UsageError(
            f"{OPTION}={value}: {provider_class.__module__}.{provider_class.__qualname__} has no "
            "contract_harness() class method and no factory in the entry-point group "
            f"{HARNESS_GROUP}, so the zero-code run cannot build a harness. Register a function "
            "that returns an ams_billing.contracts.ContractHarness there under the provider's "
            "entry-point name (or give the class that class method), or subclass "
            "ams_billing.contracts.ProviderContract in your tests and implement make_harness()"
        )
    return factory  # type: ignore[no-any-return,unused-ignore]


def _registered_harness(provider_class: type) -> Callable[[], ContractHarness] | None:
    """The factory registered under the name of a provider entry point that is this class."""
    from importlib.metadata import entry_points  # noqa: PLC0415 - only when asked

    from ams_billing.assembly.loading import ENTRY_POINT_GROUP  # noqa: PLC0415

    harnesses = {ep.name: ep for ep in entry_points(group=HARNESS_GROUP)}
    for provider in entry_points(group=ENTRY_POINT_GROUP):
        if provider.name in harnesses and provider.load() is provider_class:
            factory: Callable[[], ContractHarness] = harnesses[provider.name].load()
            return factory
    return None
