"""``ams-billing check``: the setup guide's setup and troubleshooting, as a self-test.

:func:`run_self_test` validates the variables, then asks Xero what the guide tells operators
to verify by hand, one :class:`~ams_billing.cli.checks.model.CheckResult` per check, each
failure with its fix, dependent checks skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ams_billing.cli.checks.config_checks import (
    CONNECTION_VARIABLES,
    check_provider,
    check_variables,
    check_webhook_key,
    check_whitelist,
    read_settings,
)
from ams_billing.cli.checks.connection_checks import (
    check_credentials,
    check_scopes,
    check_settings_scope,
    check_tenant,
)
from ams_billing.cli.checks.model import CheckResult, CheckStatus, Problem, Report
from ams_billing.cli.checks.organisation_checks import (
    check_account,
    check_currency,
    check_emails,
    check_organisation,
    check_rate_limit,
)
from ams_billing.cli.checks.runner import Check, CheckState, run_checks
from ams_billing.cli.checks.store_checks import check_stores
from ams_billing.cli.checks.webhook_checks import check_intent_to_receive, check_webhook_url

__all__ = [
    "CHECKS",
    "CheckResult",
    "CheckStatus",
    "Problem",
    "Report",
    "checked_provider",
    "run_self_test",
]


def _with_url(state: CheckState) -> bool:
    return state.webhook_url is not None


_SETTINGS_NEEDS = ("tenant", "settings-scope")

CHECKS: tuple[Check, ...] = (
    Check("variables", "variables", check_variables),
    Check("provider", "provider", check_provider, variables=("AMS_BILLING_SERVICE_CLASS",)),
    Check("credentials", "credentials", check_credentials, variables=CONNECTION_VARIABLES),
    Check("tenant", "tenant", check_tenant, needs=("credentials",)),
    Check("scopes", "scopes", check_scopes, needs=("tenant",)),
    Check("settings-scope", "settings scope", check_settings_scope, needs=("tenant",)),
    Check("organisation", "organisation", check_organisation, needs=_SETTINGS_NEEDS),
    Check(
        "emails",
        "invoice emails",
        check_emails,
        needs=("organisation",),
        variables=("XERO_EMAIL_INVOICES", "AMS_BILLING_EMAIL_INVOICES"),
    ),
    Check(
        "account",
        "account code",
        check_account,
        needs=_SETTINGS_NEEDS,
        variables=("XERO_ACCOUNT_CODE",),
    ),
    Check(
        "currency",
        "currency",
        check_currency,
        needs=_SETTINGS_NEEDS,
        variables=("XERO_CURRENCY_CODE",),
    ),
    Check("rate-limit", "rate limit", check_rate_limit, needs=("tenant",)),
    Check("whitelist", "email whitelist", check_whitelist),
    Check("stores", "stores", check_stores, variables=("AMS_BILLING_DATABASE_URL",)),
    Check("webhook-key", "webhook key", check_webhook_key),
    Check("webhook-url", "webhook URL", check_webhook_url, applies=_with_url),
    Check(
        "webhook-itr",
        "Intent-to-Receive",
        check_intent_to_receive,
        needs=("webhook-url", "webhook-key"),
        applies=_with_url,
    ),
)
"""Every check, in the order they run and are shown."""


def run_self_test(
    environ: Mapping[str, str],
    *,
    keep_secret: Callable[[str], None],
    webhook_url: str | None = None,
    xero_options: Mapping[str, Any] | None = None,
    provider: str = "xero",
) -> Report:
    """Run the checks of ``provider`` against ``environ``; what held and how to fix the rest.

    ``provider`` is ``xero`` (:data:`CHECKS`) or ``stripe``
    (:data:`~ams_billing.cli.checks.stripe_checks.STRIPE_CHECKS`).
    """
    if provider == "stripe":
        from ams_billing.cli.checks.stripe_checks import (  # noqa: PLC0415
            STRIPE_CHECKS,
            StripeCheckState,
            read_stripe_settings,
        )

        stripe_state = StripeCheckState(
            environ=environ, keep_secret=keep_secret, webhook_url=webhook_url
        )
        read_stripe_settings(stripe_state)
        try:
            return run_checks(STRIPE_CHECKS, stripe_state)
        finally:
            stripe_state.close()
    state = CheckState(
        environ=environ,
        keep_secret=keep_secret,
        webhook_url=webhook_url,
        xero_options=dict(xero_options or {}),
    )
    read_settings(state)
    try:
        return run_checks(CHECKS, state)
    finally:
        state.close()


def checked_provider(environ: Mapping[str, str]) -> str:
    """Which provider's set-up ``check`` tests when not told: ``stripe`` or ``xero``.

    Stripe when AMS_BILLING_SERVICE_CLASS names it (``stripe`` or a class path into
    ``ams_billing.providers.stripe``), or when STRIPE_SECRET_KEY is set and no XERO_CLIENT_ID
    is; Xero otherwise (as before Stripe existed).
    """
    named = (environ.get("AMS_BILLING_SERVICE_CLASS") or "").strip().lower()
    if named == "stripe" or named.startswith("ams_billing.providers.stripe"):
        return "stripe"
    if named:
        return "xero"
    has_stripe = bool((environ.get("STRIPE_SECRET_KEY") or "").strip())
    has_xero = bool((environ.get("XERO_CLIENT_ID") or "").strip())
    return "stripe" if has_stripe and not has_xero else "xero"
