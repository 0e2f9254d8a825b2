"""The checks of the organisation's settings, through the provider's HTTP layer.

=================== ===========================================================================
check               calls
=================== ===========================================================================
organisation        ``GET /Organisation`` (with ``xero-tenant-id``; 403 = wrong or reset tenant)
emails              the organisation's ``IsDemoCompany`` vs XERO_EMAIL_INVOICES
account             ``GET /Accounts``: XERO_ACCOUNT_CODE exists, is ACTIVE, is Class REVENUE
currency            ``GET /Currencies``: XERO_CURRENCY_CODE is enabled
rate-limit          the ``X-DayLimit-Remaining`` Xero sent with those calls
=================== ===========================================================================
"""

from __future__ import annotations

from ams_billing.cli.checks.model import CheckResult, CheckStatus
from ams_billing.cli.checks.runner import CheckState
from ams_billing.cli.checks.xero_answers import first, items

__all__ = [
    "check_account",
    "check_currency",
    "check_emails",
    "check_organisation",
    "check_rate_limit",
]

_DAY_WARNING = 500


def check_organisation(state: CheckState) -> CheckResult:
    """The organisation answers for XERO_TENANT_ID and is active."""
    if state.organisation is None:
        state.organisation = first(state.xero().http.api("GET", "/Organisation"), "Organisations")
    org = state.organisation
    name = org.get("Name") or state.tenant_name or "the organisation"
    status = org.get("OrganisationStatus") or "ACTIVE"
    kind = "a Demo Company" if org.get("IsDemoCompany") else f"{org.get('Version') or '?'} edition"
    detail = f"{name}: {kind}, base currency {org.get('BaseCurrency') or '?'}, {status}"
    if status != "ACTIVE":
        return CheckResult(
            "organisation",
            "organisation",
            CheckStatus.FAIL,
            detail,
            fix="the organisation is not active in Xero (subscription, trial or migration): "
            "sort it out in Xero, then run the check again",
        )
    return CheckResult("organisation", "organisation", CheckStatus.PASS, detail)


def check_emails(state: CheckState) -> CheckResult:
    """A Demo Company cannot email invoices: XERO_EMAIL_INVOICES must then be False."""
    demo = bool((state.organisation or {}).get("IsDemoCompany"))
    xero_on = state.settings.email_invoices if state.settings else True
    ams_on = state.service_settings.email_invoices if state.service_settings else True
    title = "invoice emails"
    if demo and xero_on and ams_on:
        return CheckResult(
            "emails",
            title,
            CheckStatus.FAIL,
            "the organisation is a Demo Company, which cannot send invoice emails (its daily "
            "email limit is 0), but XERO_EMAIL_INVOICES is True",
            fix="set XERO_EMAIL_INVOICES=False while testing with the Demo Company (the setup "
            "guide's recommendation), and True for the production organisation",
        )
    if demo:
        return CheckResult(
            "emails", title, CheckStatus.PASS, "Demo Company, and invoice emails are off"
        )
    if xero_on and ams_on:
        return CheckResult(
            "emails", title, CheckStatus.PASS, "invoice emails are on, and Xero can send them"
        )
    switch = "XERO_EMAIL_INVOICES" if not xero_on else "AMS_BILLING_EMAIL_INVOICES"
    return CheckResult(
        "emails",
        title,
        CheckStatus.WARN,
        f"invoice emails are off ({switch}=False): members get no invoice email from Xero",
        fix=f"set {switch}=True in production (the setup guide's recommendation)",
    )


def check_account(state: CheckState) -> CheckResult:
    """XERO_ACCOUNT_CODE is an active revenue account of the chart of accounts."""
    assert state.settings is not None
    code = state.settings.account_code.strip()
    accounts = items(state.xero().http.api("GET", "/Accounts"), "Accounts")
    usable = [
        a
        for a in accounts
        if a.get("Class") == "REVENUE"
        and a.get("Status") == "ACTIVE"
        and a.get("Code")
        and not a.get("SystemAccount")
    ]
    choices = ", ".join(f"{a['Code']} {a.get('Name', '')}".strip() for a in usable[:5])
    fix = (
        "set XERO_ACCOUNT_CODE to the Code of an active revenue account (Accounting → Chart of "
        f"accounts in Xero){': ' + choices if choices else ''}"
    )
    title = "account code"
    account = next((a for a in accounts if (a.get("Code") or "") == code), None)
    if account is None:
        return CheckResult(
            "account",
            title,
            CheckStatus.FAIL,
            f"the chart of accounts has no account with code {code!r}",
            fix=fix,
        )
    described = f"{code} {account.get('Name', '')}".strip()
    if account.get("Status") != "ACTIVE":
        return CheckResult(
            "account",
            title,
            CheckStatus.FAIL,
            f"account {described} is {account.get('Status')}: Xero refuses invoice lines on it",
            fix=f"restore the account in Xero, or {fix[0].lower()}{fix[1:]}",
        )
    if account.get("Class") != "REVENUE":
        return CheckResult(
            "account",
            title,
            CheckStatus.FAIL,
            f"account {described} is of class {account.get('Class') or '?'} "
            f"(type {account.get('Type') or '?'}), not REVENUE: membership fees would not be "
            "booked as income",
            fix=fix,
        )
    if account.get("SystemAccount"):
        return CheckResult(
            "account",
            title,
            CheckStatus.FAIL,
            f"account {described} is Xero's system account {account['SystemAccount']}",
            fix=fix,
        )
    return CheckResult(
        "account",
        title,
        CheckStatus.PASS,
        f"{described}: an active revenue account ({account.get('Type')}, tax "
        f"{account.get('TaxType') or 'none'})",
    )


def check_currency(state: CheckState) -> CheckResult:
    """XERO_CURRENCY_CODE is one of the organisation's currencies."""
    assert state.settings is not None
    code = state.settings.currency_code
    currencies = items(state.xero().http.api("GET", "/Currencies"), "Currencies")
    codes = [str(c.get("Code")) for c in currencies]
    title = "currency"
    match = next((c for c in currencies if c.get("Code") == code), None)
    if match is not None:
        return CheckResult(
            "currency",
            title,
            CheckStatus.PASS,
            f"{code} ({match.get('Description') or code}) is enabled",
        )
    org = (state.organisation or {}).get("Name") or "the organisation"
    return CheckResult(
        "currency",
        title,
        CheckStatus.FAIL,
        f"{code} is not enabled in {org}, which has {', '.join(codes) or 'none'}",
        fix=f"add {code} in Xero (Settings → Currencies; it needs a plan with multicurrency), or "
        f"set XERO_CURRENCY_CODE to {' or '.join(codes) or 'an enabled currency'}",
    )


def check_rate_limit(state: CheckState) -> CheckResult:
    """How much of today's call allowance is left (Xero: 5,000 a day per organisation)."""
    remaining = state.xero().http.pacer.day_remaining
    title = "rate limit"
    if remaining is None:
        return CheckResult(
            "rate-limit", title, CheckStatus.PASS, "Xero did not report today's remaining calls"
        )
    if remaining < _DAY_WARNING:
        return CheckResult(
            "rate-limit",
            title,
            CheckStatus.WARN,
            f"only {remaining} calls are left of today's limit for this organisation",
            fix="spread bulk work (imports, full syncs) over days; the provider waits out "
            "short limits itself, but the daily one stops billing until it resets",
        )
    return CheckResult(
        "rate-limit",
        title,
        CheckStatus.PASS,
        f"{remaining} calls left of today's limit for this organisation",
    )
