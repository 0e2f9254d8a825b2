"""load_service() and the provider's signatures: a mismatch is a ConfigurationError, not a crash.

A provider is built as ``from_env(environ, **options)`` or ``ProviderClass(**options)``, where
``options`` holds ``idempotency_store=`` once the state is durable. A provider declared
``from_env(cls, environ)`` (as docs/providers.md once showed) then failed with a raw
``TypeError``; and a constructor whose ledger parameter had another name silently kept its
keys in memory. Both are real providers here, loaded by their class path.
"""

from __future__ import annotations

import itertools
import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ams_billing import ConfigurationError, load_service
from ams_billing.assembly.building import misnamed_ledger_parameters
from ams_billing.testing.scratch import ScratchStores

PROVIDERS = """
from typing import Any, Mapping
from ams_billing.core.ledger import IdempotencyStore
from ams_billing.providers.fake import FakeProvider


class NoOptions(FakeProvider):
    @classmethod
    def from_env(cls, environ):
        return cls()


class WellDeclared(FakeProvider):
    @classmethod
    def from_env(cls, environ: Mapping[str, str], **options: Any):
        return cls(**options)


class BuggyFromEnv(FakeProvider):
    @classmethod
    def from_env(cls, environ, **options):
        return len(42)  # a bug of the provider's own: its TypeError is left alone


class Positional:
    def __init__(self, settings, idempotency_store=None):
        pass


class Ledger(FakeProvider):
    def __init__(self, ledger=None):
        super().__init__()

    @classmethod
    def from_env(cls, environ, **options):
        return cls(**options)


class Annotated:
    def __init__(self, *, keys: "IdempotencyStore | None" = None, timeout: float = 1.0):
        pass


class Unrelated(FakeProvider):
    def __init__(self, *, timeout: float = 1.0, **options: Any):
        super().__init__()
"""


_NUMBERS = itertools.count()


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"signature_providers_{next(_NUMBERS)}"  # fresh: each test imports its own
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(PROVIDERS), "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


@pytest.fixture
def durable() -> Iterator[ScratchStores]:
    scratch = ScratchStores()
    yield scratch
    scratch.close()


def test_from_env_without_options_is_a_configuration_error_naming_class_and_signature(
    module: str, durable: ScratchStores
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_service(f"{module}.NoOptions", environ={}, stores=durable.stores)
    assert not isinstance(raised.value.__cause__, TypeError)
    [problem] = raised.value.errors
    assert problem.field == f"{module}.NoOptions.from_env"
    assert "from_env(environ, idempotency_store=...)" in problem.message
    assert "declared from_env(environ)" in problem.message
    assert "idempotency_store" in problem.message
    assert problem.fix is not None
    assert "from_env(cls, environ: Mapping[str, str], **options: Any)" in problem.fix


def test_the_same_provider_loads_while_nothing_is_passed(module: str) -> None:
    # In memory no ledger is passed: the slip only shows once the state is durable.
    load_service(f"{module}.NoOptions", environ={}, stores="memory:").close()


def test_a_well_declared_from_env_gets_the_durable_ledger(
    module: str, durable: ScratchStores
) -> None:
    service = load_service(f"{module}.WellDeclared", environ={}, stores=durable.stores)
    assert service.provider._once.store is durable.stores.idempotency  # type: ignore[attr-defined]
    service.close()


def test_a_type_error_inside_from_env_is_the_provider_s_own(module: str) -> None:
    with pytest.raises(TypeError, match="has no len"):
        load_service(f"{module}.BuggyFromEnv", environ={}, stores="memory:")


def test_a_constructor_that_cannot_take_the_call_is_named(
    module: str, durable: ScratchStores
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_service(f"{module}.Positional", environ={}, stores=durable.stores)
    [problem] = raised.value.errors
    assert problem.field == f"{module}.Positional"
    assert "Positional(idempotency_store=...)" in problem.message
    assert "missing a required argument: 'settings'" in problem.message


def test_the_provider_s_problems_and_ours_are_reported_together(module: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_service(
            f"{module}.NoOptions",
            environ={"AMS_BILLING_EMAIL_INVOICES": "perhaps"},
            stores="memory:",
            tenant_id="t",
        )
    fields = [problem.field for problem in raised.value.errors]
    assert fields == ["AMS_BILLING_EMAIL_INVOICES", f"{module}.NoOptions.from_env"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Ledger", ("ledger",)), ("Annotated", ("keys",)), ("Unrelated", ()), ("Positional", ())],
)
def test_ledger_parameters_under_another_name_are_found(
    module: str, name: str, expected: tuple[str, ...]
) -> None:
    provider_class = getattr(__import__(module), name)
    assert misnamed_ledger_parameters(provider_class) == expected


def test_a_misnamed_ledger_parameter_is_warned_about_once(
    module: str, durable: ScratchStores, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ams_billing")
    for _ in range(2):
        load_service(f"{module}.Ledger", environ={}, stores=durable.stores).close()
    [warning] = [r for r in caplog.records if "idempotency_store" in r.getMessage()]
    message = warning.getMessage()
    assert warning.levelno == logging.WARNING
    assert f"{module}.Ledger takes ledger" in message
    assert "no parameter named exactly 'idempotency_store'" in message
    assert "lost on restart" in message


def test_a_provider_with_the_right_name_is_not_warned_about(
    module: str, durable: ScratchStores, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ams_billing")
    load_service(f"{module}.WellDeclared", environ={}, stores=durable.stores).close()
    load_service(f"{module}.Unrelated", environ={}, stores=durable.stores).close()
    assert [r for r in caplog.records if "idempotency_store" in r.getMessage()] == []
