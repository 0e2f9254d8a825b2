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
