"""The checks of the connection itself, through the provider's HTTP layer.

The token request and the calls are the provider's own: retried, paced and logged as billing's.

=================== ===========================================================================
check               calls
=================== ===========================================================================
credentials         ``POST {identity}/connect/token`` (client credentials, as the provider mints)
tenant              ``GET {api}/connections``: the connection's organisation vs XERO_TENANT_ID
scopes              the token response's ``scope``; without it, ``GET /Contacts?IDs=<zero>`` and
                    ``GET /Invoices?IDs=<zero>`` as probes
settings-scope      the same ``scope``; without it, ``GET /Organisation`` as the probe
=================== ===========================================================================
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import cattrs
import httpx

from ams_billing.cli.checks.model import CheckResult, CheckStatus
from ams_billing.cli.checks.runner import CheckState
from ams_billing.cli.checks.xero_answers import first, unreadable
from ams_billing.cli.exit_codes import ExitCode
from ams_billing.core.errors import AuthenticationError, ProviderUnavailableError
from ams_billing.providers.xero import wire
from ams_billing.providers.xero.auth import MintedToken, mint_token
from ams_billing.providers.xero.settings import Secret
from ams_billing.providers.xero.transport import Call, XeroHttp

__all__ = ["check_credentials", "check_scopes", "check_settings_scope", "check_tenant"]

_ZERO_ID = "00000000-0000-0000-0000-000000000000"
_CREDENTIALS_FIX = (
    "XERO_CLIENT_ID or XERO_CLIENT_SECRET is wrong (Xero does not say which): copy the Client "
    "ID from the app's configuration page in the Xero developer portal; if a new secret was "
    "generated there, the old one no longer works — generate one, copy it at once (it is shown "
    "only once) into XERO_CLIENT_SECRET; and make sure the custom connection is still authorised"
)
_SCOPE_STEPS = (
    "in the developer portal, tick the scopes under the app's configuration, save, and have "
    "the authorising user re-authorise the connection (changing scopes deactivates it until then)"
)
_SETTINGS_READ = "accounting.settings.read"
_NO_SETTINGS = f"needs {_SETTINGS_READ}, which the token lacks"


class _TokenCapture:
    """Posts the token request through the provider's HTTP layer and keeps the raw answer."""

    def __init__(self, http: XeroHttp) -> None:
        self.http = http
        self.response: httpx.Response | None = None

    def post_token(self, form: dict[str, str], authorization: Secret) -> httpx.Response:
        self.response = self.http.post_token(form, authorization)
        return self.response


def _token_field(response: httpx.Response | None, cls: type[Any], name: str) -> str | None:
    if response is None:
        return None
    with contextlib.suppress(ValueError, TypeError, cattrs.BaseValidationError):
        value = getattr(wire.structure(wire.loads(response.content), cls), name)
        return value if isinstance(value, str) else None
    return None


def check_credentials(state: CheckState) -> CheckResult:
    """Xero's token endpoint accepts XERO_CLIENT_ID and XERO_CLIENT_SECRET."""
    provider = state.xero()
    settings = provider.settings
    capture = _TokenCapture(provider.http)
    title = "credentials"
    try:
        minted = mint_token(capture, settings)
    except AuthenticationError as error:
        code = _token_field(capture.response, wire.TokenError, "error") or ""
        fix = _CREDENTIALS_FIX
        if code == "invalid_scope":
            fix = (
                "XERO_SCOPES asks for scopes the connection does not have: leave it empty to get "
                "every scope the connection has, or list only scopes ticked in the portal"
            )
        elif code == "unauthorized_client":
            fix = (
                "XERO_CLIENT_ID must be a Custom connection app that is enabled and authorised "
                "(the setup guide, steps 1 and 3); " + _CREDENTIALS_FIX
            )
        detail = (
            f"Xero's token endpoint refused XERO_CLIENT_ID and XERO_CLIENT_SECRET ({code})"
            if code == "invalid_client"
            else str(error)
        )
        return CheckResult(
            "credentials",
            title,
            CheckStatus.FAIL,
            detail,
            fix=fix,
            exit_code=ExitCode.PROVIDER,
            blocks="Xero refused the client credentials",
        )
    except ProviderUnavailableError as error:
        return CheckResult(
            "credentials",
            title,
            CheckStatus.FAIL,
            f"Xero's token endpoint {settings.token_url} could not be reached: {error}",
            fix="check this machine's network access to Xero (and XERO_IDENTITY_URL, which is "
            "left unset for real Xero); https://status.developer.xero.com/ shows outages",
            exit_code=ExitCode.PROVIDER,
            blocks="Xero could not be reached",
        )
    state.keep_secret(minted.value)
    provider.http.tokens.get(lambda: MintedToken(minted.value, minted.expires_in))
    scope = _token_field(capture.response, wire.TokenResponse, "scope")
    state.granted_scopes = frozenset(scope.split()) if scope is not None else None
    return CheckResult(
        "credentials",
        title,
        CheckStatus.PASS,
        f"Xero accepted XERO_CLIENT_ID and XERO_CLIENT_SECRET (a token valid for "
        f"{minted.expires_in / 60:.0f} minutes was issued)",
    )


def check_tenant(state: CheckState) -> CheckResult:
    """The connection is authorised, and XERO_TENANT_ID (if set) is its organisation."""
    provider = state.xero()
    settings = provider.settings
    response = provider.http.send(
        Call("GET", f"{settings.api_url.rstrip('/')}/connections", paced=False)
    )
    try:
        data = wire.loads(response.content)
        if not isinstance(data, list):
            raise TypeError("not a JSON array")
        connections = [wire.structure(item, wire.Connection) for item in data]
    except (ValueError, TypeError, cattrs.BaseValidationError):
        raise unreadable("GET /connections") from None
    title = "tenant"
    if not connections:
        return CheckResult(
            "tenant",
            title,
            CheckStatus.FAIL,
            "the custom connection reaches no organisation: it is not authorised",
            fix="in the developer portal, choose the authorising user and have them complete "
            "the emailed authorisation, selecting the organisation (the setup guide, step 3)",
            exit_code=ExitCode.PROVIDER,
            blocks="the connection is not authorised",
        )
    names = ", ".join(f"{c.tenant_name or '?'} ({c.tenant_id})" for c in connections)
    configured = (settings.tenant_id or "").strip().lower()
    if not configured:
        state.tenant_name = connections[0].tenant_name
        return CheckResult(
            "tenant",
            title,
            CheckStatus.PASS,
            f"XERO_TENANT_ID is not set; the connection reaches {names}, which is used",
        )
    match = next((c for c in connections if c.tenant_id.lower() == configured), None)
    if match is None:
        return CheckResult(
            "tenant",
            title,
            CheckStatus.FAIL,
            f"XERO_TENANT_ID {settings.tenant_id} is not this connection's organisation; it "
            f"reaches {names}",
            fix=f"set XERO_TENANT_ID to {connections[0].tenant_id} (Connection management in "
            "the developer portal) or leave it empty; if it was right before, the Demo Company "
            "was reset or the connection was authorised for another organisation",
            exit_code=ExitCode.PROVIDER,
            blocks="XERO_TENANT_ID is not the connection's organisation",
        )
    state.tenant_name = match.tenant_name
    return CheckResult(
        "tenant",
        title,
        CheckStatus.PASS,
        f"the connection is authorised for {match.tenant_name or 'the organisation'}, which is "
        "XERO_TENANT_ID",
    )


def _granted(state: CheckState, path: str, params: Mapping[str, str] | None = None) -> bool:
    """Probe a read when the token did not list its scopes; a scope refusal means no."""
    try:
        response = state.xero().http.api("GET", path, params=params)
    except AuthenticationError:
        return False
    if path == "/Organisation":
        state.organisation = first(response, "Organisations")
    return True


def check_scopes(state: CheckState) -> CheckResult:
    """The token can manage contacts and invoices (broad or granular scopes)."""
    granted = state.granted_scopes
    title = "scopes"
    if granted is None:
        contacts = _granted(state, "/Contacts", {"IDs": _ZERO_ID})
        invoices = _granted(state, "/Invoices", {"IDs": _ZERO_ID})
        if contacts and invoices:
            return CheckResult(
                "scopes",
                title,
                CheckStatus.PASS,
                "contacts and invoices can be read (the token response did not list its "
                "scopes, so reads were probed; write access cannot be probed without writing)",
            )
        missing = [n for n, ok in (("contacts", contacts), ("invoices", invoices)) if not ok]
        return _scope_failure(f"the token cannot read {' or '.join(missing)}", state)
    if "accounting.contacts" not in granted:
        read_only = "accounting.contacts.read" in granted
        return _scope_failure(
            "the token lacks accounting.contacts" + (" (it has only .read)" if read_only else ""),
            state,
        )
    broad = "accounting.transactions" in granted
    if not broad and "accounting.invoices" not in granted:
        return _scope_failure(
            "the token lacks accounting.transactions (or, for a connection created from 29 April "
            "2026, accounting.invoices)",
            state,
        )
    kind = (
        "broad scopes"
        if broad
        else "granular scopes, as custom connections created from 29 April 2026 have"
    )
    names = "accounting.transactions" if broad else "accounting.invoices"
    return CheckResult(
        "scopes", title, CheckStatus.PASS, f"accounting.contacts and {names} ({kind})"
    )


def _scope_failure(detail: str, state: CheckState) -> CheckResult:
    fix = (
        "tick accounting.contacts and accounting.transactions — a custom connection created on "
        "or after 29 April 2026 does not offer accounting.transactions: tick accounting.invoices "
        f"instead (and accounting.payments only to read or record payments); {_SCOPE_STEPS}"
    )
    if state.settings is not None and state.settings.scopes:
        fix += "; XERO_SCOPES limits what the token asks for: leave it empty"
    return CheckResult("scopes", "scopes", CheckStatus.FAIL, detail, fix=fix)


def check_settings_scope(state: CheckState) -> CheckResult:
    """The token may read the organisation's settings, which this self-check needs."""
    granted = state.granted_scopes
    title = "settings scope"
    if granted is None:
        ok = _granted(state, "/Organisation")
        source = "probed with GET /Organisation"
    else:
        ok = bool(granted & {"accounting.settings", _SETTINGS_READ})
        source = "from the token's scopes"
    if ok:
        return CheckResult(
            "settings-scope",
            title,
            CheckStatus.PASS,
            f"the organisation's settings can be read ({source})",
        )
    return CheckResult(
        "settings-scope",
        title,
        CheckStatus.FAIL,
        f"the token lacks {_SETTINGS_READ} ({source}), which the setup guide does not ask for: "
        "without it the organisation, the account code and the currency cannot be checked, "
        "and a Demo Company is only discovered by its first refused email",
        fix=f"tick {_SETTINGS_READ} as well; {_SCOPE_STEPS}",
        blocks=_NO_SETTINGS,
    )
