"""Development sessions: ``nox`` runs lint, typecheck, tests and the contract suites.

Every session installs the project from this checkout as a wheel, the way users get it, so a
file missing from the wheel fails here rather than on PyPI.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests", "contracts", "example", "docs"]

PYTHON = os.environ.get("AMS_BILLING_NOX_PYTHON", "3.11")
PROVIDERS = ["fake", "xero"]


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff: lint and formatting."""
    session.install("ruff==0.17.6")  # pinned: formatting must not change under a green main
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """Mypy, strict, on src/."""
    session.install(".[lint,test]")
    session.run("mypy")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """This project's own test suite, on the installed wheel."""
    if os.environ.get("CI") == "true" and shutil.which("redis-server") is None:
        session.error(
            "redis-server is not installed; tests/ratelimits need it (apt-get install redis-server)"
        )
    session.install(".[test]")
    workers = os.environ.get("AMS_BILLING_TEST_WORKERS", "auto")
    session.run("pytest", "-n", workers, *session.posargs)


@nox.session(python=PYTHON)
@nox.parametrize("provider", PROVIDERS)
def contracts(session: nox.Session, provider: str) -> None:
    """The shared contract suite against one provider, run as a third party would run it."""
    session.install(".[contracts]")
    session.chdir(session.create_tmp())
    session.run(
        "pytest", "--pyargs", "ams_billing.contracts", f"--billing-provider={provider}",
        "-p", "no:cacheprovider", *session.posargs,
    )  # fmt: skip


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The README's main job: the setup guide's verification flow."""
    session.install(".")
    session.run("ams-billing", "demo", *session.posargs)


@nox.session(python=PYTHON)
def example(session: nox.Session) -> None:
    """The example third-party provider in examples/, run against the built wheel.

    Exactly what a provider author's CI does: install ams-billing from a wheel, install their
    own package, run their tests and the zero-code contract run, outside this checkout.
    """
    wheels = Path(session.create_tmp()).resolve() / "wheels"
    session.run("python", "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), ".")
    (wheel,) = wheels.glob("ams_billing-*.whl")
    session.install(f"ams-billing[contracts] @ {wheel.as_uri()}")
    session.install("./examples/ams-billing-sqlite")
    session.chdir("examples/ams-billing-sqlite")
    session.run("pytest", "-p", "no:cacheprovider", *session.posargs)
    session.chdir(session.create_tmp())
    session.run(
        "pytest", "--pyargs", "ams_billing.contracts", "--billing-provider=sqlite",
        "-p", "no:cacheprovider",
    )  # fmt: skip


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site; any warning fails the build."""
    session.install(".[docs]")
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", str(Path(session.create_tmp()) / "site")
    )


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks against the Xero emulator on loopback; writes BENCHMARKS.md (not a test).

    Takes several minutes; ``nox -s bench -- --quick`` is a smoke run. Not in the default
    sessions: speed goals are reported, never asserted as tests.
    """
    session.install(".", "xero-python", "pyxero", "uvicorn")
    session.run("python", "benchmarks/run_all.py", *session.posargs)


@nox.session(python=PYTHON)
def soak(session: nox.Session) -> None:
    """The fault soak: 10,000 operations per provider and seed under every fault, then an audit.

    Bounded and reproducible: a virtual clock, seeded faults; exits 1 on any duplicate or loss.
    ``nox -s soak -- --operations 50000 --seed 1 2 3`` to change the size or the seeds.
    """
    session.install(".")
    args = session.posargs or ["--operations", "10000", "--seed", "7", "8", "9"]
    session.run("python", "soak/soak.py", *args)


MUTMUT_CONFIG = """\
[tool.mutmut]
source_paths = ["src"]
only_mutate = [
    "src/ams_billing/providers/fake/*",
    "src/ams_billing/core/totals.py",
    "src/ams_billing/core/money.py",
    "src/ams_billing/core/signing.py",
]
pytest_add_cli_args = ["-p", "no:cacheprovider", "--billing-provider=fake"]
pytest_add_cli_args_test_selection = ["--pyargs", "ams_billing.contracts"]

# Makes this file pytest's inifile, so the run does not pick up the checkout's pytest settings
# (the work directory is inside .nox/ of the checkout): as a third party's CI runs it.
[tool.pytest.ini_options]
minversion = "8.0"
"""


@nox.session(python=PYTHON)
def mutation(session: nox.Session) -> None:
    """Mutation testing of the contract suite: which mutants of the fake does it let through?

    mutmut 3 mutates the fake provider and core/totals.py, money.py and signing.py in a copy of
    src/, and runs the zero-code contract run against the fake (and nothing of tests/) on each
    mutant, so every kill is the contract suite's. Not in the default sessions: about 20
    minutes on 2 cores. Prints the score and writes survivors.tsv (status, mutant, change)
    beside the run; MUTATION.md says why each survivor is left. ``nox -s mutation -- NAME...``
    reruns the named mutants only, against the contract suite of the checkout.
    """
    session.install(".[contracts]", "mutmut==3.8.1")
    work = Path(session.create_tmp()).resolve() / "mutation"
    if not session.posargs:
        shutil.rmtree(work, ignore_errors=True)
    if not (work / "src").exists():
        shutil.copytree("src", work / "src")
    else:  # rerunning named mutants: against the contract suite as it is now
        suite = Path("src", "ams_billing", "contracts")
        for copy in (work / "src", work / "mutants" / "src"):
            shutil.copytree(suite, copy / "ams_billing" / "contracts", dirs_exist_ok=True)
    (work / "pyproject.toml").write_text(MUTMUT_CONFIG, "utf-8")
    session.chdir(work)
    workers = os.environ.get("AMS_BILLING_TEST_WORKERS", str(os.cpu_count() or 1))
    session.run("mutmut", "run", "--max-children", workers, *session.posargs)
    session.run("mutmut", "export-cicd-stats")
    results = session.run("mutmut", "results", silent=True) or ""
    rows = _mutation_rows(work, str(results))
    import json  # noqa: PLC0415 - only this session needs it

    (work / "survivors.tsv").write_text("".join("\t".join(r) + "\n" for r in rows), "utf-8")
    stats = json.loads((work / "mutants" / "mutmut-cicd-stats.json").read_text("utf-8"))
    killed = stats["killed"] + stats["timeout"]
    session.log(
        f"mutants: {stats['total']}, killed {killed} ({killed / stats['total']:.1%}), "
        f"survived {stats['survived']}, no tests {stats['no_tests']}; "
        f"survivors and their changes: {work / 'survivors.tsv'}"
    )


def _mutation_rows(work: Path, results: str) -> list[tuple[str, str, str]]:
    """(status, mutant, the changed lines) for each mutant ``mutmut results`` lists."""
    import ast  # noqa: PLC0415 - only the mutation session needs these
    import difflib  # noqa: PLC0415
    import re  # noqa: PLC0415

    sources: dict[str, dict[str, list[str]]] = {}
    rows = []
    for line in results.splitlines():
        match = re.fullmatch(r"\s*((.+)\.(x[_ǁ].+)__mutmut_(\d+)): (.+)", line)
        if match is None:
            continue
        name, module, function, number, status = match.groups()
        if module not in sources:
            path = work / "mutants" / "src" / Path(*module.split(".")).with_suffix(".py")
            text = path.read_text("utf-8")
            lines = text.splitlines()
            sources[module] = {
                node.name: lines[node.lineno : node.end_lineno]  # the body, without the def
                for node in ast.walk(ast.parse(text))
                if isinstance(node, ast.FunctionDef) and "__mutmut_" in node.name
            }
        original = sources[module].get(f"{function}__mutmut_orig", [])
        mutant = sources[module].get(f"{function}__mutmut_{number}", [])
        changed = [
            change.strip()
            for change in difflib.unified_diff(original, mutant, lineterm="", n=0)
            if not change.startswith(("---", "+++", "@@"))
        ]
        rows.append((status, name, " | ".join(changed)))
    return rows
