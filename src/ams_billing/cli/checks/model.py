"""The results of ``ams-billing check``: one line per check, each with its fix."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import attrs

from ams_billing.cli.exit_codes import ExitCode

__all__ = ["CheckResult", "CheckStatus", "Problem", "Report"]


class CheckStatus(enum.Enum):
    """How a check came out."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"

    @property
    def held(self) -> bool:
        """Whether checks that depend on this one can run (passed, perhaps with a warning)."""
        return self in (CheckStatus.PASS, CheckStatus.WARN)


@attrs.frozen
class Problem:
    """One problem with one variable (from the settings' validation)."""

    variable: str
    message: str
    fix: str | None = None


@attrs.frozen
class CheckResult:
    """The outcome of one check.

    ``detail`` says what was found, ``fix`` what to do about a failure or a warning, in plain
    words. ``exit_code`` is what a failure of this check makes the command exit with;
    ``blocks`` is the reason given to the checks that depend on this one when it did not hold.
    """

    id: str
    title: str
    status: CheckStatus
    detail: str
    fix: str | None = None
    problems: tuple[Problem, ...] = ()
    exit_code: ExitCode = ExitCode.FAILED
    blocks: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form of this result."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix,
            "problems": [
                {"variable": p.variable, "message": p.message, "fix": p.fix} for p in self.problems
            ],
        }


@attrs.frozen
class Report:
    """Every check's result, in order."""

    results: tuple[CheckResult, ...]

    def __getitem__(self, check_id: str) -> CheckResult:
        for result in self.results:
            if result.id == check_id:
                return result
        raise KeyError(check_id)

    @property
    def ok(self) -> bool:
        """Whether no check failed."""
        return all(r.status is not CheckStatus.FAIL for r in self.results)

    @property
    def exit_code(self) -> ExitCode:
        """0 when nothing failed; else 3 (configuration), 4 (provider) or 1, in that order."""
        failed = {r.exit_code for r in self.results if r.status is CheckStatus.FAIL}
        for code in (ExitCode.CONFIGURATION, ExitCode.PROVIDER, ExitCode.FAILED):
            if code in failed:
                return code
        return ExitCode.OK

    def counts(self) -> dict[str, int]:
        """How many checks came out each way (every status present, zero or not)."""
        return {
            status.value: sum(1 for r in self.results if r.status is status)
            for status in CheckStatus
        }

    def as_json(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The stable JSON document ``check --json`` prints."""
        return {
            "ok": self.ok,
            "exit_code": int(self.exit_code),
            **(extra or {}),
            "summary": self.counts(),
            "checks": [r.as_json() for r in self.results],
        }


def problems_of(errors: Sequence[Any]) -> tuple[Problem, ...]:
    """The settings' ``FieldError`` objects as :class:`Problem` objects."""
    return tuple(Problem(e.field, e.message, e.fix) for e in errors)
