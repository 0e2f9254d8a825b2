"""The checks that need no network: the variables, the provider, the whitelist, the key.

The variables are validated by the settings classes themselves (``ServiceSettings`` and
``XeroSettings``), so ``check`` reports exactly what the AMS would refuse to start with, every
problem at once. A problem in a variable the Xero calls do not need (the webhook key, the
account code, the whitelist...) does not stop the calls: the settings are built again with a
stand-in for that variable, and only the checks that read it are skipped.
"""

from __future__ import annotations

from ams_billing.assembly.loading import (
    SERVICE_CLASS_VARIABLE,
    ServiceSettings,
    resolve_provider_class,
)
from ams_billing.cli.checks.model import CheckResult, CheckStatus, problems_of
from ams_billing.cli.checks.runner import CheckState
from ams_billing.cli.exit_codes import ExitCode
from ams_billing.core.errors import ConfigurationError, FieldError
from ams_billing.providers.xero.provider import XeroProvider
from ams_billing.providers.xero.settings import XeroSettings

__all__ = [
    "CONNECTION_VARIABLES",
    "check_provider",
    "check_variables",
    "check_webhook_key",
    "check_whitelist",
    "read_settings",
]

CONNECTION_VARIABLES = (
    "XERO_CLIENT_ID",
    "XERO_CLIENT_SECRET",
    "XERO_TENANT_ID",
    "XERO_API_URL",
    "XERO_IDENTITY_URL",
    "XERO_TIMEOUT",
    "XERO_MAX_RETRY_WAIT",
    "AMS_BILLING_RATE_LIMIT_REDIS_URL",
    "AMS_BILLING_RATE_LIMIT_TIME_SCALE",
)
"""Without these, no call to Xero can be made (or trusted)."""

# Harmless valid values for the other variables, so the calls can still be checked.
_STAND_INS = {
    "XERO_WEBHOOK_KEY": "stand-in-webhook-key",
    "XERO_ACCOUNT_CODE": "0",
    "XERO_CURRENCY_CODE": "XXX",
    "XERO_AMOUNT_TYPE": "EXCLUSIVE",
    "XERO_EMAIL_INVOICES": None,
    "AMS_BILLING_EMAIL_WHITELIST_REGEX": None,
    "AMS_BILLING_EMAIL_INVOICES": None,
}
_WHITELIST = "AMS_BILLING_EMAIL_WHITELIST_REGEX"
_PROVIDER_FIX = (
    "set AMS_BILLING_SERVICE_CLASS=ams.billing.providers.xero.XeroBillingService "
    "(the setup guide, step 7)"
)


def read_settings(state: CheckState) -> None:
    """Validate every variable; keep the problems and whatever settings can be built."""
    problems: list[FieldError] = []
    try:
        state.service_settings = ServiceSettings.from_env(state.environ)
    except ConfigurationError as error:
        problems += error.errors
    try:
        state.settings = XeroSettings.from_env(state.environ)
    except ConfigurationError as error:
        problems += error.errors
        fields = {e.field for e in error.errors}
        if not fields & set(CONNECTION_VARIABLES):
            patched = dict(state.environ)
            for name in fields & set(_STAND_INS):
                stand_in = _STAND_INS[name]
                if stand_in is None:
                    patched.pop(name, None)
                else:
                    patched[name] = stand_in
            try:
                state.settings = XeroSettings.from_env(patched)
            except ConfigurationError:
                state.settings = None
    state.problems = list(dict.fromkeys(problems))


def check_variables(state: CheckState) -> CheckResult:
    """The setup guide's variables are set and valid (all problems at once)."""
    if not state.problems:
        return CheckResult(
            "variables",
            "variables",
            CheckStatus.PASS,
            "AMS_BILLING_SERVICE_CLASS and the XERO_* variables are set and valid",
        )
    names = ", ".join(dict.fromkeys(p.field for p in state.problems))
    count = len(state.problems)
    return CheckResult(
        "variables",
        "variables",
        CheckStatus.FAIL,
        f"{count} problem{'s' if count != 1 else ''}: {names}",
        fix="fix each variable as listed (docs/configuration.md describes them)",
        problems=problems_of(state.problems),
        exit_code=ExitCode.CONFIGURATION,
        blocks="the variables are not valid",
    )


def check_provider(state: CheckState) -> CheckResult:
    """AMS_BILLING_SERVICE_CLASS selects the Xero provider."""
    value = (state.environ.get(SERVICE_CLASS_VARIABLE) or "").strip()
    try:
        provider_class = resolve_provider_class(value)
    except ConfigurationError as error:
        return CheckResult(
            "provider",
            "provider",
            CheckStatus.FAIL,
            str(error),
            fix=_PROVIDER_FIX,
            exit_code=ExitCode.CONFIGURATION,
        )
    if issubclass(provider_class, XeroProvider):
        return CheckResult(
            "provider", "provider", CheckStatus.PASS, f"{value} selects the Xero provider"
        )
    return CheckResult(
        "provider",
        "provider",
        CheckStatus.WARN,
        f"{value} selects {provider_class.__qualname__}, not the Xero provider: the AMS will not "
        "bill through Xero (the checks below test the XERO_* variables all the same)",
        fix=_PROVIDER_FIX,
    )


def check_whitelist(state: CheckState) -> CheckResult:
    """AMS_BILLING_EMAIL_WHITELIST_REGEX, when set, compiles."""
    problem = state.problem_with([_WHITELIST])
    if problem is not None:
        return CheckResult(
            "whitelist",
            "email whitelist",
            CheckStatus.FAIL,
            f"{_WHITELIST} {problem.message}",
            fix=problem.fix,
            exit_code=ExitCode.CONFIGURATION,
        )
    pattern = (state.environ.get(_WHITELIST) or "").strip()
    if not pattern:
        return CheckResult(
            "whitelist",
            "email whitelist",
            CheckStatus.PASS,
            f"{_WHITELIST} is not set: invoice emails may go to every member (right for "
            "production)",
        )
    return CheckResult(
        "whitelist",
        "email whitelist",
        CheckStatus.PASS,
        f"only recipients matching {pattern!r} are emailed (the setup guide: leave it empty "
        "in production)",
    )


def check_webhook_key(state: CheckState) -> CheckResult:
    """XERO_WEBHOOK_KEY is set (its value is never shown)."""
    problem = state.problem_with(["XERO_WEBHOOK_KEY"])
    if problem is not None:
        return CheckResult(
            "webhook-key",
            "webhook key",
            CheckStatus.FAIL,
            f"XERO_WEBHOOK_KEY {problem.message}: webhook deliveries cannot be verified, so "
            "every one would be refused with 401",
            fix="copy the Webhook Key from the app's Webhooks section in the Xero developer "
            "portal (the setup guide, step 5) into XERO_WEBHOOK_KEY",
            exit_code=ExitCode.CONFIGURATION,
        )
    return CheckResult(
        "webhook-key",
        "webhook key",
        CheckStatus.PASS,
        "XERO_WEBHOOK_KEY is set (not shown); --webhook-url URL proves the endpoint uses it",
    )
