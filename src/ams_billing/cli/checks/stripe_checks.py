"""``ams-billing check`` for Stripe: the key, what it may do, the webhook endpoint, the secret.

=================== ===========================================================================
check               how
=================== ===========================================================================
variables           ``ServiceSettings`` and ``StripeSettings`` validate the variables
provider            AMS_BILLING_SERVICE_CLASS selects the Stripe provider
api-key             STRIPE_SECRET_KEY's prefix: secret or restricted, test or live
key-accepted        ``GET /v1/customers?limit=1``: Stripe accepts the key (401: refused)
permissions         ``GET /v1/invoices?limit=1``, ``GET /v1/events?limit=1``,
                    ``GET /v1/webhook_endpoints?limit=1``: a restricted key may read them (403)
webhook-endpoint    ``GET /v1/webhook_endpoints``: an enabled endpoint at ``--webhook-url`` (or,
                    without it, any) listens to every event the provider needs
webhook-secret      STRIPE_WEBHOOK_SECRET is set, each value ``whsec_…`` (never shown)
=================== ===========================================================================

Each call goes straight to the API with httpx (no retries: a check reports what it sees).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx

from ams_billing.assembly.loading import (
    SERVICE_CLASS_VARIABLE,
    ServiceSettings,
    resolve_provider_class,
)
from ams_billing.cli.checks.model import CheckResult, CheckStatus, problems_of
from ams_billing.cli.checks.runner import Check, CheckState
from ams_billing.cli.checks.store_checks import check_stores
from ams_billing.cli.checks.stripe_key import KeyKind, key_shape
from ams_billing.cli.exit_codes import ExitCode
from ams_billing.core.errors import ConfigurationError, FieldError

__all__ = [
    "NEEDED_EVENTS",
    "STRIPE_CHECKS",
    "StripeCheckState",
    "read_stripe_settings",
]

NEEDED_EVENTS = (
    "invoice.finalized",
    "invoice.paid",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "invoice.deleted",
    "invoice.updated",
)
"""The events the Stripe provider acts on; its endpoint must listen to each (or to ``*``)."""

KEY = "STRIPE_SECRET_KEY"
SECRET = "STRIPE_WEBHOOK_SECRET"  # noqa: S105 - a variable's name
BASE = "STRIPE_API_BASE"
VERSION = "STRIPE_API_VERSION"
DEFAULT_BASE = "https://api.stripe.com"
CONNECTION_VARIABLES = (KEY, BASE, VERSION)
"""Without these, no call to Stripe can be made (or trusted)."""

_KEYS_PAGE = "the Dashboard's Developers > API keys page"
_PROVIDER_FIX = f"set {SERVICE_CLASS_VARIABLE}=stripe"
_PAGES = 10
"""Pages of webhook endpoints read at most (100 each; Stripe allows 16 endpoints)."""


@attrs.define
class StripeCheckState(CheckState):
    """What the Stripe checks share: the HTTP client, and the endpoints once listed."""

    client: httpx.Client | None = None
    endpoints: list[Mapping[str, Any]] | None = None

    def stripe(self) -> httpx.Client:
        """The HTTP client for the API, with the key (built once; closed by :meth:`close`)."""
        if self.client is None:
            key = (self.environ.get(KEY) or "").strip()
            headers = {"Authorization": f"Bearer {key}"}
            version = (self.environ.get(VERSION) or "").strip()
            if version:
                headers["Stripe-Version"] = version
            base = (self.environ.get(BASE) or "").strip() or DEFAULT_BASE
            self.client = httpx.Client(base_url=base.rstrip("/"), headers=headers, timeout=10.0)
        return self.client

    def close(self) -> None:
        """Close the HTTP client."""
        if self.client is not None:
            self.client.close()
            self.client = None
        super().close()


def read_stripe_settings(state: CheckState) -> None:
    """Validate every variable through the settings classes; keep every problem."""
    problems: list[FieldError] = []
    try:
        state.service_settings = ServiceSettings.from_env(state.environ)
    except ConfigurationError as error:
        problems += error.errors
    from ams_billing.providers.stripe.settings import StripeSettings  # noqa: PLC0415 - Stripe only

    try:
        StripeSettings.from_env(state.environ)
    except ConfigurationError as error:
        problems += error.errors
    state.problems = list(dict.fromkeys(problems))


def _result(check_id: str, title: str, status: CheckStatus, detail: str, **kw: Any) -> CheckResult:
    return CheckResult(check_id, title, status, detail, **kw)


def check_variables(state: CheckState) -> CheckResult:
    """The variables are set and valid (all problems at once)."""
    if not state.problems:
        return _result(
            "variables",
            "variables",
            CheckStatus.PASS,
            f"{SERVICE_CLASS_VARIABLE} and the STRIPE_* variables are set and valid",
        )
    names = ", ".join(dict.fromkeys(p.field for p in state.problems))
    count = len(state.problems)
    return _result(
        "variables",
        "variables",
        CheckStatus.FAIL,
        f"{count} problem{'s' if count != 1 else ''}: {names}",
        fix="fix each variable as listed (docs/providers/stripe.md describes them)",
        problems=problems_of(state.problems),
        exit_code=ExitCode.CONFIGURATION,
        blocks="the variables are not valid",
    )


def check_provider(state: CheckState) -> CheckResult:
    """AMS_BILLING_SERVICE_CLASS selects the Stripe provider."""
    value = (state.environ.get(SERVICE_CLASS_VARIABLE) or "").strip()
    try:
        provider_class = resolve_provider_class(value)
    except ConfigurationError as error:
        return _result(
            "provider",
            "provider",
            CheckStatus.FAIL,
            str(error),
            fix=_PROVIDER_FIX,
            exit_code=ExitCode.CONFIGURATION,
        )
    if provider_class.__module__.startswith("ams_billing.providers.stripe"):
        return _result("provider", "provider", CheckStatus.PASS, f"{value} selects Stripe")
    return _result(
        "provider",
        "provider",
        CheckStatus.WARN,
        f"{value} selects {provider_class.__qualname__}, not the Stripe provider: the AMS will "
        "not bill through Stripe (the checks below test the STRIPE_* variables all the same)",
        fix=_PROVIDER_FIX,
    )


def check_api_key(state: CheckState) -> CheckResult:
    """STRIPE_SECRET_KEY is a secret or restricted key; say which mode (test or live)."""
    value = (state.environ.get(KEY) or "").strip()
    title = "API key"
    if not value:
        return _result(
            "api-key",
            title,
            CheckStatus.FAIL,
            f"{KEY} is not set",
            fix=f"copy the secret key (sk_test_… for a sandbox, sk_live_… for live) from "
            f"{_KEYS_PAGE} into {KEY}",
            exit_code=ExitCode.CONFIGURATION,
            blocks=f"{KEY} is not set",
        )
    shape = key_shape(value)
    if shape.kind is KeyKind.PUBLISHABLE:
        return _result(
            "api-key",
            title,
            CheckStatus.FAIL,
            f"{KEY} is a publishable key (pk_{shape.mode}_…), which can only tokenise cards "
            "in a browser",
            fix=f"use the secret key (sk_{shape.mode}_…) or a restricted key (rk_{shape.mode}_…) "
            f"from {_KEYS_PAGE}",
            exit_code=ExitCode.CONFIGURATION,
            blocks=f"{KEY} is not a server key",
        )
    if not shape.usable:
        return _result(
            "api-key",
            title,
            CheckStatus.FAIL,
            f"{KEY} does not look like a Stripe key (sk_test_…, sk_live_…, rk_test_…, rk_live_…)",
            fix=f"copy the whole key from {_KEYS_PAGE}, without quotes or spaces",
            exit_code=ExitCode.CONFIGURATION,
            blocks=f"{KEY} is not a Stripe key",
        )
    mode = (
        "test mode: a sandbox, no real money moves"
        if shape.mode == "test"
        else "LIVE mode: real customers are invoiced"
    )
    kind = (
        "a restricted key (its permissions are checked below)"
        if shape.kind is KeyKind.RESTRICTED
        else "a secret key"
    )
    return _result("api-key", title, CheckStatus.PASS, f"{KEY} is {kind}, {mode} (not shown)")


def _get(state: CheckState, path: str, params: Mapping[str, str] | None = None) -> httpx.Response:
    assert isinstance(state, StripeCheckState)
    return state.stripe().get(path, params=params)


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return f"HTTP {response.status_code}"
    message = error.get("message") if isinstance(error, dict) else None
    return str(message) if message else f"HTTP {response.status_code}"


def check_key_accepted(state: CheckState) -> CheckResult:
    """Stripe accepts the key: ``GET /v1/customers?limit=1`` answers 200."""
    title = "key accepted"
    base = str(_client(state).base_url)
    try:
        response = _get(state, "/v1/customers", {"limit": "1"})
    except httpx.HTTPError as error:
        return _result(
            "key-accepted",
            title,
            CheckStatus.FAIL,
            f"Stripe's API at {base} could not be reached ({type(error).__name__})",
            fix=f"check this machine's network access to Stripe (and {BASE}, left unset for "
            "the real API); https://status.stripe.com/ shows outages",
            exit_code=ExitCode.PROVIDER,
            blocks="Stripe could not be reached",
        )
    if response.status_code == 200:
        return _result("key-accepted", title, CheckStatus.PASS, f"Stripe at {base} accepted {KEY}")
    if response.status_code == 401:
        return _result(
            "key-accepted",
            title,
            CheckStatus.FAIL,
            f"Stripe refused {KEY} (401: {_error_message(response)})",
            fix=f"the key was deleted, rolled (the old one stops at its expiry) or mistyped: "
            f"copy it again from {_KEYS_PAGE}",
            exit_code=ExitCode.PROVIDER,
            blocks=f"Stripe refused {KEY}",
        )
    if response.status_code == 403:
        return _result(
            "key-accepted",
            title,
            CheckStatus.FAIL,
            f"the key may not read customers (403: {_error_message(response)})",
            fix="give the restricted key Write on Customers, Invoices and Invoice items, and Read "
            f"on Events and Webhook endpoints ({_KEYS_PAGE}, Edit key)",
            exit_code=ExitCode.PROVIDER,
            blocks="the key may not read customers",
        )
    return _result(
        "key-accepted",
        title,
        CheckStatus.FAIL,
        f"GET /v1/customers answered {response.status_code}: {_error_message(response)}",
        fix="run the check again; if it persists, see https://status.stripe.com/",
        exit_code=ExitCode.PROVIDER,
        blocks="Stripe did not answer as documented",
    )


def _client(state: CheckState) -> httpx.Client:
    assert isinstance(state, StripeCheckState)
    return state.stripe()


_READS = (
    ("/v1/invoices", "Invoices"),
    ("/v1/events", "Events"),
    ("/v1/webhook_endpoints", "Webhook endpoints"),
)


def check_permissions(state: CheckState) -> CheckResult:
    """The key may read invoices, events and webhook endpoints (a restricted key may not)."""
    refused = []
    for path, resource in _READS:
        response = _get(state, path, {"limit": "1"})
        if response.status_code == 403:
            refused.append(resource)
        elif response.status_code != 200:
            return _result(
                "permissions",
                "permissions",
                CheckStatus.FAIL,
                f"GET {path} answered {response.status_code}: {_error_message(response)}",
                exit_code=ExitCode.PROVIDER,
            )
    if refused:
        return _result(
            "permissions",
            "permissions",
            CheckStatus.FAIL,
            f"the key may not read {', '.join(refused)} (403)",
            fix="edit the restricted key: Write on Customers, Invoices and Invoice items; Read "
            f"on Events and Webhook endpoints ({_KEYS_PAGE})",
            exit_code=ExitCode.PROVIDER,
            blocks="the key may not read webhook endpoints"
            if "Webhook endpoints" in refused
            else None,
        )
    return _result(
        "permissions",
        "permissions",
        CheckStatus.PASS,
        "invoices, events and webhook endpoints can be read (writes cannot be probed without "
        "writing)",
    )


def _list_endpoints(state: StripeCheckState) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    params = {"limit": "100"}
    for _ in range(_PAGES):
        response = state.stripe().get("/v1/webhook_endpoints", params=params)
        response.raise_for_status()
        page = response.json()
        data = page.get("data") or []
        found += [e for e in data if isinstance(e, dict)]
        if not page.get("has_more") or not data:
            break
        params = {"limit": "100", "starting_after": str(data[-1].get("id"))}
    return found


def _missing(endpoint: Mapping[str, Any]) -> list[str]:
    events = set(endpoint.get("enabled_events") or [])
    if "*" in events:
        return []
    return [e for e in NEEDED_EVENTS if e not in events]


def _same_url(a: str, b: str) -> bool:
    left, right = urlsplit(a.strip()), urlsplit(b.strip())
    return (left.scheme, left.netloc.lower(), left.path, left.query) == (
        right.scheme,
        right.netloc.lower(),
        right.path,
        right.query,
    )


def check_webhook_endpoint(state: CheckState) -> CheckResult:
    """An enabled endpoint at ``--webhook-url`` (or any, without it) gets every needed event."""
    assert isinstance(state, StripeCheckState)
    title = "webhook endpoint"
    try:
        endpoints = _list_endpoints(state)
    except (httpx.HTTPError, ValueError, AttributeError) as error:
        return _result(
            "webhook-endpoint",
            title,
            CheckStatus.FAIL,
            f"the webhook endpoints could not be listed ({type(error).__name__})",
            exit_code=ExitCode.PROVIDER,
        )
    state.endpoints = endpoints
    wanted = state.webhook_url
    events = ", ".join(NEEDED_EVENTS)
    create = (
        "in the Dashboard (Developers > Webhooks > Add destination) or with POST "
        f"/v1/webhook_endpoints, listen to {events}"
    )
    candidates = [e for e in endpoints if wanted is None or _same_url(str(e.get("url")), wanted)]
    if not candidates:
        where = f"at {wanted}" if wanted else "at all"
        registered = ", ".join(str(e.get("url")) for e in endpoints) or "none"
        return _result(
            "webhook-endpoint",
            title,
            CheckStatus.FAIL,
            f"no webhook endpoint is registered {where} (registered: {registered}): Stripe will "
            "never tell the AMS an invoice was paid",
            fix=f"register {wanted or 'https://YOUR_DOMAIN/billing/stripe/webhooks/'} {create}; "
            f"put its signing secret in {SECRET}",
        )
    good = [e for e in candidates if e.get("status") == "enabled" and not _missing(e)]
    if good:
        urls = ", ".join(str(e.get("url")) for e in good)
        hint = "" if wanted else " (give --webhook-url URL to check the AMS's own)"
        return _result(
            "webhook-endpoint",
            title,
            CheckStatus.PASS,
            f"{urls} is enabled and listens to every needed event ({events}){hint}",
        )
    problems = []
    for endpoint in candidates:
        missing = _missing(endpoint)
        what = []
        if endpoint.get("status") != "enabled":
            what.append(f"it is {endpoint.get('status')}")
        if missing:
            what.append(f"it does not listen to {', '.join(missing)}")
        problems.append(f"{endpoint.get('url')} ({endpoint.get('id')}): {' and '.join(what)}")
    return _result(
        "webhook-endpoint",
        title,
        CheckStatus.FAIL,
        "; ".join(problems),
        fix="in the Dashboard (Developers > Webhooks, the endpoint, Edit), enable it and select "
        f"{events}; or POST /v1/webhook_endpoints/ID with enabled_events[] (or disabled=false)",
    )


def check_webhook_secret(state: CheckState) -> CheckResult:
    """STRIPE_WEBHOOK_SECRET is set, each comma-separated value ``whsec_…`` (never shown)."""
    raw = state.environ.get(SECRET) or ""
    values = [v.strip() for v in raw.split(",") if v.strip()]
    title = "webhook secret"
    fix = (
        "copy the endpoint's signing secret (whsec_…) from the Dashboard (Developers > Webhooks, "
        f"the endpoint, Signing secret, Reveal) into {SECRET}; during a roll, both secrets "
        "separated by a comma"
    )
    if not values:
        return _result(
            "webhook-secret",
            title,
            CheckStatus.FAIL,
            f"{SECRET} is not set: deliveries cannot be verified, so every one is refused",
            fix=fix,
            exit_code=ExitCode.CONFIGURATION,
        )
    wrong = sum(1 for v in values if not v.startswith("whsec_") or len(v) <= len("whsec_"))
    if wrong:
        return _result(
            "webhook-secret",
            title,
            CheckStatus.FAIL,
            f"{wrong} of the {len(values)} value(s) in {SECRET} is not a signing secret (whsec_…)",
            fix=fix,
            exit_code=ExitCode.CONFIGURATION,
        )
    rotation = f" ({len(values)} secrets: a roll in progress)" if len(values) > 1 else ""
    return _result(
        "webhook-secret",
        title,
        CheckStatus.PASS,
        f"{SECRET} is set (not shown){rotation}; Stripe never lists an endpoint's secret, so "
        "only a signed delivery proves it matches",
    )


STRIPE_CHECKS: tuple[Check, ...] = (
    Check("variables", "variables", check_variables),
    Check("provider", "provider", check_provider, variables=(SERVICE_CLASS_VARIABLE,)),
    Check("api-key", "API key", check_api_key),
    Check(
        "key-accepted",
        "key accepted",
        check_key_accepted,
        needs=("api-key",),
        variables=CONNECTION_VARIABLES,
    ),
    Check("permissions", "permissions", check_permissions, needs=("key-accepted",)),
    Check("webhook-endpoint", "webhook endpoint", check_webhook_endpoint, needs=("permissions",)),
    Check("webhook-secret", "webhook secret", check_webhook_secret),
    Check("stores", "stores", check_stores, variables=("AMS_BILLING_DATABASE_URL",)),
)
"""Every Stripe check, in the order they run and are shown."""
