"""Running the checks in order, skipping those whose prerequisites did not hold.

A :class:`Check` names the checks it ``needs`` and the ``variables`` it reads. It is skipped,
with the reason, when a needed check did not pass (the reason travels down the chain, so every
skipped line names the root cause) or when one of its variables is invalid. A check that
raises a :class:`~ams_billing.core.errors.BillingError` fails with the error's message: a
provider error (unreachable, credentials or organisation refused) makes ``check`` exit 4.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ams_billing.assembly.loading import ServiceSettings
from ams_billing.cli.checks.model import CheckResult, CheckStatus, Report
from ams_billing.cli.exit_codes import exit_code_for
from ams_billing.core.errors import (
    BillingError,
    ConfigurationError,
    FieldError,
    RateLimitedError,
)
from ams_billing.providers.xero.provider import XeroProvider
from ams_billing.providers.xero.settings import XeroSettings

__all__ = ["Check", "CheckState", "run_checks"]


@attrs.define
class CheckState:
    """What the checks learn and share while they run.

    :param environ: the variables being checked.
    :param keep_secret: called with every secret a check handles (the access token), so that
        the output can never show it.
    :param xero_options: extra keyword arguments for ``XeroProvider`` (tests).
    """

    environ: Mapping[str, str]
    keep_secret: Callable[[str], None]
    webhook_url: str | None = None
    xero_options: Mapping[str, Any] = attrs.field(factory=dict)
    problems: list[FieldError] = attrs.field(factory=list)
    service_settings: ServiceSettings | None = None
    settings: XeroSettings | None = None
    provider: XeroProvider | None = None
    granted_scopes: frozenset[str] | None = None
    tenant_name: str | None = None
    organisation: Mapping[str, Any] | None = None

    def problem_with(self, variables: Iterable[str]) -> FieldError | None:
        """The first problem found with one of ``variables``, if any."""
        wanted = set(variables)
        return next((p for p in self.problems if p.field in wanted), None)

    def xero(self) -> XeroProvider:
        """The Xero provider built from the settings (once; closed by :meth:`close`)."""
        if self.provider is None:
            if self.settings is None:
                raise ConfigurationError("the Xero settings could not be built from the variables")
            self.provider = XeroProvider(self.settings, **self.xero_options)
        return self.provider

    def close(self) -> None:
        """Close the provider's HTTP client."""
        if self.provider is not None:
            self.provider.close()
            self.provider = None


@attrs.frozen
class Check:
    """One check: its id (stable, used in ``--json``), title and how to run it."""

    id: str
    title: str
    run: Callable[[CheckState], CheckResult]
    needs: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    applies: Callable[[CheckState], bool] = lambda state: True


def run_checks(checks: Iterable[Check], state: CheckState) -> Report:
    """Run ``checks`` in order against ``state``; every applicable check gets a result."""
    results: dict[str, CheckResult] = {}
    for check in checks:
        if not check.applies(state):
            continue
        reason = _blocked(check, results, state)
        if reason is not None:
            results[check.id] = CheckResult(check.id, check.title, CheckStatus.SKIP, reason)
            continue
        try:
            result = check.run(state)
        except BillingError as error:
            result = _failure(check, error)
        results[check.id] = result
    return Report(tuple(results.values()))


def _blocked(check: Check, results: Mapping[str, CheckResult], state: CheckState) -> str | None:
    for need in check.needs:
        prior = results.get(need)
        if prior is None or prior.status.held:
            continue
        if prior.status is CheckStatus.SKIP:
            return prior.detail
        return prior.blocks or f"needs the {prior.title} check to pass"
    problem = state.problem_with(check.variables)
    if problem is not None:
        return f"{problem.field} {problem.message} (see the variables check)"
    return None


def _failure(check: Check, error: BillingError) -> CheckResult:
    detail = str(error)
    fix = None
    if isinstance(error, RateLimitedError):
        wait = f" in {error.retry_after:.0f} s" if error.retry_after is not None else " later"
        fix = f"Xero's {error.limit or 'rate'} limit is spent: run the check again{wait}"
    return CheckResult(
        check.id,
        check.title,
        CheckStatus.FAIL,
        detail,
        fix=fix,
        exit_code=exit_code_for(error),
        blocks=f"the {check.title} check failed",
    )
