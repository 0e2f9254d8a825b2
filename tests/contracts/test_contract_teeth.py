"""The contract suite has teeth: it fails for providers with one defect each, and only then."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from contract_runs import INLINE

pytest_plugins = ["pytester"]

HERE = Path(__file__).parent

BROKEN_MODULES = sorted(path.stem for path in HERE.glob("contract_broken*.py"))
"""The modules of broken providers: each has a ``BROKEN`` map, and may name in
``PASS_THE_REST`` those that must fail only the tests named for them."""

BROKEN: dict[type, set[str]] = {}
HOME: dict[type, str] = {}
PASS_THE_REST: set[type] = set()
for _module in map(importlib.import_module, BROKEN_MODULES):
    BROKEN.update(_module.BROKEN)
    HOME.update(dict.fromkeys(_module.BROKEN, _module.__name__))
    PASS_THE_REST.update(getattr(_module, "PASS_THE_REST", ()))

SUITE = """
from hypothesis import Phase, settings

from ams_billing.contracts import ProviderContract
from ams_billing.contracts.case import STATEFUL
from ams_billing.testing.fake import restartable_harness
from {module} import {name} as Provider


class TestProvider(ProviderContract):
    provider_name = "{module}.{name}"  # loaded by its path in the loading tests
    # Whether the comparison fails is what counts here: skip shrinking the failing program.
    stateful_settings = settings(STATEFUL, phases=[Phase.explicit, Phase.generate])

    def make_harness(self):
        return restartable_harness(Provider)
"""


def run_suite(
    pytester: pytest.Pytester, name: str, module: str = "contract_broken"
) -> pytest.HookRecorder:
    pytester.makepyfile(**{m: (HERE / f"{m}.py").read_text("utf-8") for m in BROKEN_MODULES})
    pytester.makepyfile(test_suite=SUITE.format(module=module, name=name))
    return pytester.inline_run(*INLINE)


def failed_tests(recorder: pytest.HookRecorder) -> set[str]:
    return {report.nodeid.rpartition("::")[2] for report in recorder.getfailures()}


@pytest.mark.parametrize("broken", list(BROKEN), ids=lambda cls: cls.__name__)
def test_suite_fails_for_a_broken_provider(pytester: pytest.Pytester, broken: type) -> None:
    recorder = run_suite(pytester, broken.__name__, HOME[broken])
    failed = failed_tests(recorder)
    assert recorder.ret == pytest.ExitCode.TESTS_FAILED
    missing = BROKEN[broken] - failed
    assert not missing, (
        f"{broken.__name__} slipped through {sorted(missing)}; failed: {sorted(failed)}"
    )
    if broken in PASS_THE_REST:  # only the tests named for it catch it
        assert failed == BROKEN[broken], sorted(failed - BROKEN[broken])


def test_suite_passes_for_the_fake(pytester: pytest.Pytester) -> None:
    recorder = run_suite(pytester, "FakeProvider")
    passed, skipped, failed = recorder.listoutcomes()
    assert failed == []
    assert recorder.ret == pytest.ExitCode.OK
    assert len(passed) > 60
    # Only the probes of absent capabilities skip (the fake offers them all), and the tests of
    # declarations the fake does not make by default: Xero's answers (4 quantity places, tax
    # computed, past due dates accepted) and webhooks with no signature time and no snapshots.
    not_declared = (
        "test_absent_capability_is_unsupported",
        "test_quantity_finer_than_declared_is_refused_naming_the_line",
        "test_line_tax_rate_is_refused_without_tax",
        "test_past_due_date_is_refused_naming_it_when_declared",
        *UNDECLARED_BY_DEFAULT,
    )
    assert all(any(name in report.nodeid for name in not_declared) for report in skipped)
    assert {name for name in UNDECLARED_BY_DEFAULT if any(name in r.nodeid for r in skipped)} == (
        set(UNDECLARED_BY_DEFAULT)
    )
    assert len(skipped) == 8 + len(UNDECLARED_BY_DEFAULT)


UNDECLARED_BY_DEFAULT = (
    "test_delivery_signed_within_the_tolerance_is_accepted",
    "test_delivery_signed_before_the_tolerance_is_refused",
    "test_replayed_delivery_is_not_processed_twice",
    "test_snapshot_delivery_is_processed_without_a_read",
)
"""The webhook tests that run only for what a provider declares, and the fake by default
does not (``TestFakeWithTimedSignaturesAndSnapshots`` in test_contract_fake.py runs them)."""
