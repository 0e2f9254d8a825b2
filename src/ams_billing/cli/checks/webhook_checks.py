"""The webhook URL checks (``check --webhook-url URL``): HTTPS, the guide's path, and ITR."""

from __future__ import annotations

from urllib.parse import urlsplit

from ams_billing.cli.checks.model import CheckResult, CheckStatus
from ams_billing.cli.checks.runner import CheckState
from ams_billing.cli.deliveries import WEBHOOK_PATH, intent_to_receive, is_loopback_url

__all__ = ["check_intent_to_receive", "check_webhook_url"]

_EXAMPLE = "https://members.example.org/billing/xero/webhooks/"


def check_webhook_url(state: CheckState) -> CheckResult:
    """The URL is HTTPS (http only on loopback) and has the guide's path."""
    url = state.webhook_url or ""
    parts = urlsplit(url)
    title = "webhook URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return CheckResult(
            "webhook-url",
            title,
            CheckStatus.FAIL,
            f"{url!r} is not an http(s) URL",
            fix=f"give the endpoint's full URL, e.g. {_EXAMPLE}",
        )
    if parts.path != WEBHOOK_PATH:
        missing_slash = parts.path == WEBHOOK_PATH.rstrip("/")
        return CheckResult(
            "webhook-url",
            title,
            CheckStatus.FAIL,
            f"the path is {parts.path or '/'!r}, not {WEBHOOK_PATH!r}"
            + (" (the trailing slash is missing)" if missing_slash else ""),
            fix=f"use https://YOUR_DOMAIN{WEBHOOK_PATH} (the setup guide, step 5), e.g. "
            f"{_EXAMPLE}, in the developer portal and here",
        )
    if parts.scheme == "https":
        return CheckResult(
            "webhook-url", title, CheckStatus.PASS, f"{url} is HTTPS, path {WEBHOOK_PATH}"
        )
    if is_loopback_url(url):
        return CheckResult(
            "webhook-url",
            title,
            CheckStatus.WARN,
            f"{url} is plain http: fine on this machine for testing, but Xero only delivers "
            "to HTTPS",
            fix=f"register the public HTTPS URL in the developer portal, e.g. {_EXAMPLE}",
        )
    return CheckResult(
        "webhook-url",
        title,
        CheckStatus.FAIL,
        f"{url} is plain http: Xero only delivers to HTTPS URLs",
        fix=f"serve the AMS over HTTPS and use https://{parts.netloc}{WEBHOOK_PATH}",
        blocks="Xero would not call a plain-http URL",
    )


def check_intent_to_receive(state: CheckState) -> CheckResult:
    """The endpoint answers Xero's Intent-to-Receive series correctly."""
    assert state.webhook_url is not None
    key = (state.environ.get("XERO_WEBHOOK_KEY") or "").strip()
    steps = intent_to_receive(state.webhook_url, key)
    wrong = [f"{step.description}: {'; '.join(step.problems)}" for step in steps if step.problems]
    slowest = max(step.answer.elapsed for step in steps)
    if not wrong:
        return CheckResult(
            "webhook-itr",
            "Intent-to-Receive",
            CheckStatus.PASS,
            f"{len(steps)} deliveries answered as Xero requires (200 when signed with "
            f"XERO_WEBHOOK_KEY, 401 otherwise, empty body, no cookie), slowest in "
            f"{slowest * 1000:.0f} ms",
        )
    always_ok = all(step.answer.status == 200 for step in steps)
    if always_ok:
        fix = (
            "the endpoint accepts deliveries it cannot have verified: it must check "
            "x-xero-signature against XERO_WEBHOOK_KEY and answer 401 when it does not match "
            "(mount ams_billing's webhook view or app, which does)"
        )
    elif any(s.answer.status == 401 for s in steps if s.correctly_signed):
        fix = (
            "the endpoint refuses deliveries signed with XERO_WEBHOOK_KEY: the AMS must use "
            "the same key as the developer portal's Webhooks section (copy it again)"
        )
    else:
        fix = (
            "answer 200 to a correctly signed delivery and 401 to any other, with an empty "
            "body, no cookies, within 5 s (the setup guide, step 5)"
        )
    return CheckResult(
        "webhook-itr",
        "Intent-to-Receive",
        CheckStatus.FAIL,
        "; ".join(wrong),
        fix=fix,
    )
