"""``nox -s ams`` tells the AMS's own failures from the migration's: only a change fails it.

The comparison runs on real JUnit XML reports of real pytest runs, before and after.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

AMS_TESTS = """
import logging

def test_keeps_passing():
    pass

def test_passes_then_fails():
    assert AFTER is False

def test_icon_missing():
    raise LookupError("TemplateDoesNotExist: icons/person-fill.svg")

def test_email_not_sent():
    logging.getLogger("ams.utils.email").error(
        "TemplateDoesNotExist: memberships/emails/staff_individual_membership_created.html"
    )
    assert len([]) == 1

def test_email_not_sent_either():
    logging.getLogger("ams.utils.email").error(
        "TemplateDoesNotExist: memberships/emails/staff_organisation_seats_added.html"
    )
    assert len([]) == 1

def test_fails_for_another_reason_after():
    raise LookupError("TemplateDoesNotExist: icons/x.svg" if not AFTER else "the database")

def test_fails_then_passes():
    assert AFTER

def test_deselected_after():
    assert AFTER is False
"""


@pytest.fixture(scope="module")
def noxfile():
    spec = importlib.util.spec_from_file_location("ams_billing_noxfile", ROOT / "noxfile.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def junit_report(folder: Path, after: bool) -> Path:
    """Run the tests above as the ams session runs the AMS's, and return their report."""
    folder.mkdir()
    (folder / "test_ams.py").write_text(f"AFTER = {after}\n{AMS_TESTS}")
    report = folder / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--junitxml={report}",
         "-o", "junit_logging=all", "-o", "junit_log_passing_tests=false", "test_ams.py"],
        cwd=folder, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return report


def test_only_a_change_between_before_and_after_fails(noxfile, tmp_path):
    before = noxfile._junit_results(junit_report(tmp_path / "before", after=False))
    after = noxfile._junit_results(junit_report(tmp_path / "after", after=True))
    assert before["test_ams.py::test_keeps_passing"] == noxfile.AmsResult("passed")

    changes, unchanged = noxfile._ams_changes(
        before, after, deselected=["test_ams.py::test_deselected_after"]
    )

    icons, emails = noxfile.AMS_KNOWN_FAILURES.values()
    # The missing icon's failure, and the empty outboxes whose logs name the missing email
    # templates: each reason once, with its tests.
    assert unchanged == {
        icons: ["test_ams.py::test_icon_missing"],
        emails: ["test_ams.py::test_email_not_sent", "test_ams.py::test_email_not_sent_either"],
    }
    assert [change.split(": ")[0] for change in changes] == [
        "test_ams.py::test_fails_for_another_reason_after",
        "test_ams.py::test_passes_then_fails",
    ]
    assert "before failed (the AMS's front-end build output is missing" in changes[0]
    assert "after failed (LookupError: the database)" in changes[0]
    assert "before passed, after failed (assert True is False)" in changes[1]


def test_a_test_gone_after_the_migration_is_a_change(noxfile):
    result = noxfile.AmsResult
    changes, unchanged = noxfile._ams_changes(
        {"a.py::test_gone": result("failed", "why"), "a.py::test_kept": result("passed")},
        {"a.py::test_kept": result("passed"), "a.py::test_new": result("passed")},
        deselected=[],
    )
    assert changes == ["a.py::test_gone: before failed (why), after absent"]
    assert unchanged == {}
