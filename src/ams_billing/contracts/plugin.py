"""The contract suite's pytest plugin: ``--billing-provider`` and the ``contract`` marker.

It is a ``pytest11`` entry point, so pytest loads it in every project where ams-billing is
installed. It is therefore inert unless asked for: it adds no fixture, collects nothing, and
imports only pytest and :mod:`ams_billing` (its own package, not the suite's Hypothesis
strategies), which owns no top-level name of the project under test. It only

- adds the option ``--billing-provider=NAME`` (group ``ams-billing``), where NAME is an
  entry-point name in ``ams_billing.providers`` (``fake``) or a dotted class path
  (``ams_billing.providers.fake.FakeBillingService``); the zero-code run
  ``pytest --pyargs ams_billing.contracts --billing-provider=NAME`` builds each test's harness
  with that class's ``contract_harness()`` class method;
- registers the ``contract`` marker, so suites that subclass ``ProviderContract`` pass
  ``--strict-markers``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ams_billing.contracts.harness import ContractHarness

__all__ = ["HARNESS_FACTORY_KEY", "OPTION"]

OPTION = "--billing-provider"
"""The command-line option naming the provider of the zero-code run."""

HARNESS_FACTORY_KEY = pytest.StashKey["Callable[[], ContractHarness]"]()
"""Where the factory resolved from ``--billing-provider`` is kept (``config.stash``)."""

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
    from ams_billing.core.errors import ProviderNotFoundError  # noqa: PLC0415 - only when asked
    from ams_billing.core.loading import resolve_provider_class  # noqa: PLC0415

    try:
        provider_class = resolve_provider_class(value)
    except ProviderNotFoundError as error:
        raise pytest.UsageError(f"{OPTION}: {error}") from None
    factory = getattr(provider_class, "contract_harness", None)
    if not callable(factory):
        raise pytest.UsageError(
            f"{OPTION}={value}: {provider_class.__module__}.{provider_class.__qualname__} has no "
            "contract_harness() class method, so the zero-code run cannot build a harness. Give "
            "it one that returns an ams_billing.contracts.ContractHarness, or subclass "
            "ams_billing.contracts.ProviderContract in your tests and implement make_harness()"
        )
    return factory  # type: ignore[no-any-return]
