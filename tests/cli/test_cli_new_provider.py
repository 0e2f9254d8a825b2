"""``ams-billing new-provider``: a project that is green as generated.

The command's own behaviour (names, folders, ``--json``) runs in-process. The generated project
is then checked as its author's CI checks it: ruff and mypy (strict) under its own
configuration, its own tests, and the zero-code contract run against it, all in fresh
interpreters. To stay fast these put its ``src`` on ``PYTHONPATH`` with a ``.dist-info`` that
declares the entry points its pyproject.toml declares; the ``example`` nox session installs it
for real (pip, not editable, in a fresh virtualenv with the wheel of this checkout) and runs
the same.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from cli_helpers import invoke, json_of

import ams_billing
from ams_billing.cli.scaffold import ProjectNames, render_project

TIMEOUT = 600
NAME = "acme_pay"  # two words: every placeholder differs (acme_pay, AcmePay, ACME_PAY, acme-pay)
LONGEST = "acme_pay_with_a_long"  # 20 characters, the most a name may have


# -- the command --------------------------------------------------------------------------------


def test_it_writes_the_project_folder(tmp_path: Path) -> None:
    result = invoke(["new-provider", "acme", "--directory", str(tmp_path)])
    assert result.exit_code == 0, result.output
    project = tmp_path / "ams-billing-acme"
    written = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    assert written == [
        ".github/workflows/contracts.yml",
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "src/ams_billing_acme/__init__.py",
        "src/ams_billing_acme/client.py",
        "src/ams_billing_acme/errors.py",
        "src/ams_billing_acme/harness.py",
        "src/ams_billing_acme/provider.py",
        "src/ams_billing_acme/py.typed",
        "src/ams_billing_acme/standin.py",
        "tests/test_provider.py",
    ]
    assert f"wrote {project}/ (12 files)" in result.stdout


def test_it_writes_into_the_current_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke(["new-provider", "acme"]).exit_code == 0
    assert (tmp_path / "ams-billing-acme" / "pyproject.toml").is_file()


def test_json_names_what_was_written(tmp_path: Path) -> None:
    result = invoke(["new-provider", NAME, "-o", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    document = json_of(result)
    assert document["ok"] is True
    assert (document["name"], document["distribution"], document["package"]) == (
        "acme_pay",
        "ams-billing-acme-pay",
        "ams_billing_acme_pay",
    )
    assert document["directory"] == str(tmp_path / "ams-billing-acme-pay")
    assert "src/ams_billing_acme_pay/provider.py" in document["files"]
    assert document["next_steps"][-1].endswith("--billing-provider=acme_pay")


@pytest.mark.parametrize(
    "name", ["Acme", "acme-pay", "9acme", "acme__pay", "acme_", "", "a" * 21, "acme pay"]
)
def test_a_name_that_cannot_be_an_entry_point_and_a_package_is_refused(
    tmp_path: Path, name: str
) -> None:
    result = invoke(["new-provider", name, "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "lower-case letters and digits" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["fake", "xero"])
def test_the_names_of_shipped_providers_are_refused(tmp_path: Path, name: str) -> None:
    result = invoke(["new-provider", name, "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "a provider ams-billing ships" in result.output


def test_an_existing_folder_is_left_alone_without_force(tmp_path: Path) -> None:
    project = tmp_path / "ams-billing-acme"
    project.mkdir()
    (project / "README.md").write_text("mine", "utf-8")
    result = invoke(["new-provider", "acme", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "exists already" in result.output
    assert "--force" in result.output
    assert [p.name for p in project.iterdir()] == ["README.md"]
    assert (project / "README.md").read_text("utf-8") == "mine"


def test_force_writes_the_template_s_files_and_keeps_the_others(tmp_path: Path) -> None:
    project = tmp_path / "ams-billing-acme"
    project.mkdir()
    (project / "README.md").write_text("mine", "utf-8")
    (project / "NOTES.txt").write_text("mine too", "utf-8")
    assert invoke(["new-provider", "acme", "-o", str(tmp_path), "--force"]).exit_code == 0
    assert (project / "README.md").read_text("utf-8").startswith("# ams-billing-acme")
    assert (project / "NOTES.txt").read_text("utf-8") == "mine too"


def test_every_name_comes_from_the_placeholders() -> None:
    # Rendered for another name, nothing of the example's is left, and the only "${" left is
    # GitHub Actions' own expression syntax.
    for path, text in render_project(ProjectNames.of("zebra")).items():
        assert "acme" not in str(path).lower()
        assert "acme" not in text.lower(), path
        assert "__module__" not in str(path)
        assert text.count("${") == text.count("${{"), path


# -- the generated project, as its CI runs it -------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The project for NAME, and an environment in which it is importable as if installed."""
    work = tmp_path_factory.mktemp("new-provider")
    result = invoke(["new-provider", NAME, "-o", str(work)])
    assert result.exit_code == 0, result.output
    project = work / "ams-billing-acme-pay"
    site = work / "site"
    _declare_entry_points(project, site)
    ams_billing_src = Path(ams_billing.__file__).parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = os.pathsep.join([str(project / "src"), str(site), str(ams_billing_src)])
    return project, env


def _declare_entry_points(project: Path, site: Path) -> None:
    """A .dist-info with the entry points the generated pyproject.toml declares."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))
    dist_info = site / "ams_billing_acme_pay-0.1.0.dist-info"
    dist_info.mkdir(parents=True)
    name, version = pyproject["project"]["name"], pyproject["project"]["version"]
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", "utf-8"
    )
    sections = [
        f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in points.items())
        for group, points in pyproject["project"]["entry-points"].items()
    ]
    (dist_info / "entry_points.txt").write_text("\n".join(sections), "utf-8")


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_the_generated_project_declares_both_entry_points(
    generated: tuple[Path, dict[str, str]],
) -> None:
    project, _ = generated
    entry_points = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))["project"][
        "entry-points"
    ]
    assert entry_points == {
        "ams_billing.providers": {"acme_pay": "ams_billing_acme_pay:AcmePayProvider"},
        "ams_billing.contract_harnesses": {
            "acme_pay": "ams_billing_acme_pay.harness:contract_harness"
        },
    }


@pytest.mark.parametrize("name", ["acme", LONGEST])
def test_the_generated_project_is_ruff_clean(tmp_path: Path, name: str) -> None:
    # The shortest and the longest names: no line grows past 100 columns, and ruff format
    # leaves the code as written whatever the length of the names in it.
    assert invoke(["new-provider", name, "-o", str(tmp_path)]).exit_code == 0
    (project,) = tmp_path.iterdir()
    for args in (["check", "src", "tests"], ["format", "--check", "src", "tests"]):
        done = run(["ruff", *args], project, dict(os.environ))
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_generated_project_is_mypy_strict_clean(
    generated: tuple[Path, dict[str, str]],
) -> None:
    project, env = generated
    done = run(["mypy", "--no-incremental"], project, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found in 7 source files" in done.stdout


def test_the_generated_project_s_own_tests_pass(generated: tuple[Path, dict[str, str]]) -> None:
    project, env = generated
    done = run(["pytest", "-q"], project, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


def test_the_zero_code_contract_run_passes_as_generated(
    generated: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    _, env = generated
    done = run(
        [
            "pytest", "-p", "no:cacheprovider", "-q", "-rs", "-W", "error", "--strict-markers",
            "--pyargs", "ams_billing.contracts", f"--billing-provider={NAME}",
        ],
        tmp_path,
        env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    assert "failed" not in summary
    assert "error" not in summary
    # What skips: the probes of absent capabilities (it offers them all), the batch hooks it
    # leaves out, the DRAFT tests (its stand-in makes no drafts), and the tests of what it
    # does not declare (it keeps 4 quantity places, computes tax, takes past due dates; no
    # Intent-to-Receive check, signature time or snapshot events).
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    reasons = (
        "its own tests cover it",
        "no create_invoices hook",
        "makes no DRAFT invoices",
        "the provider keeps 4 places, as many as a LineItem may have",
        "the provider computes tax (it declares no TaxModel.NO_TAX)",
        "the provider declares that it accepts past due dates",
        "declares no Intent-to-Receive check",
        "declares no signature_tolerance",
        "declares no snapshot_events",
    )
    assert all(any(reason in line for reason in reasons) for line in skipped), skipped
    assert "TestLoading" not in "".join(skipped)
