"""The loading contract has teeth: a provider that passes every other contract fails it.

Each provider of ``contract_loading_broken`` is the fake with one defect that only
``load_service()`` meets. The whole zero-code suite runs against it, loaded by its class path:
exactly the loading tests named in ``BROKEN`` fail, and nothing else does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from contract_loading_broken import BROKEN

pytest_plugins = ["pytester"]

HERE = Path(__file__).parent


def zero_code_run(pytester: pytest.Pytester, provider: str, *args: str) -> pytest.RunResult:
    source = (HERE / "contract_loading_broken.py").read_text("utf-8")
    pytester.makepyfile(contract_loading_broken=source)
    return pytester.runpytest_subprocess(
        "--pyargs", "ams_billing.contracts", "-p", "no:cacheprovider", "--strict-markers",
        "-W", "error", "-rf", f"--billing-provider={provider}", *args,
    )  # fmt: skip


def failed_tests(result: pytest.RunResult) -> set[str]:
    return {
        line.split("::")[-1].split(" - ")[0]
        for line in result.stdout.lines
        if line.startswith("FAILED ")
    }


@pytest.mark.parametrize("broken", list(BROKEN), ids=lambda cls: cls.__name__)
def test_only_the_loading_contract_fails_for_a_provider_built_wrong(
    pytester: pytest.Pytester, broken: type
) -> None:
    pytester.syspathinsert()
    result = zero_code_run(pytester, f"contract_loading_broken.{broken.__name__}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert failed_tests(result) == BROKEN[broken]
    assert result.parseoutcomes()["passed"] > 100


def test_the_loading_failure_names_the_class_and_the_signature(
    pytester: pytest.Pytester,
) -> None:
    pytester.syspathinsert()
    result = zero_code_run(
        pytester, "contract_loading_broken.FromEnvWithoutOptions", "-k", "TestLoading"
    )
    result.stdout.fnmatch_lines(
        [
            "*ConfigurationError*",
            "*contract_loading_broken.FromEnvWithoutOptions.from_env*"
            "from_env(environ, idempotency_store=...)*declared from_env(environ*",
        ]
    )
    assert "TypeError: " not in result.stdout.str()
