"""Identity: ``POST /connect/token`` (client_credentials), ``GET /connections``, bearer checks.

Behaviour (xero-api.md §1): client authentication by HTTP Basic or form fields; 1800 s tokens,
no refresh token; 400 ``{"error": "invalid_client" | "unsupported_grant_type" |
"invalid_scope"}``. Omitting ``scope`` grants every configured scope ([U], the plausible
reading). API calls without a usable token get a 401 problem document
(``AuthenticationUnsuccessful``; ``TokenExpired: token expired at ...`` once expired); a call
outside the token's scopes gets 401 ``AuthorizationUnsuccessful`` (the reported behaviour; some
notes claim 403 [U]).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, unquote

import attrs

from ams_billing.emulators.common.messages import EmulatorRequest, EmulatorResponse

from . import wire
from .config import EmulatorConfig
from .ids import IdFactory

__all__ = [
    "AccessToken",
    "TokenStore",
    "connections_body",
    "required_scopes",
    "token_endpoint",
]

_READ = "GET"
_SCOPES = {
    "contacts": (("accounting.contacts",), ("accounting.contacts.read",)),
    "invoices": (
        ("accounting.transactions", "accounting.invoices"),
        ("accounting.transactions.read", "accounting.invoices.read"),
    ),
    "payments": (
        ("accounting.transactions", "accounting.payments"),
        ("accounting.transactions.read", "accounting.payments.read"),
    ),
    "settings": (("accounting.settings",), ("accounting.settings.read",)),
}


def required_scopes(resource: str, method: str) -> tuple[str, ...]:
    """The scopes of which a token needs one to call ``method`` on ``resource``."""
    write, read = _SCOPES[resource]
    return write + read if method == _READ else write


@attrs.frozen
class AccessToken:
    """An issued access token (the secret value never appears in ``repr``)."""

    value: str = attrs.field(repr=False)
    scopes: frozenset[str]
    issued_at: datetime
    expires_at: datetime


class TokenStore:
    """Issued tokens, looked up by value."""

    def __init__(self, ids: IdFactory) -> None:
        self._ids = ids
        self._tokens: dict[str, AccessToken] = {}
        self._lock = threading.Lock()

    def issue(self, scopes: frozenset[str], now: datetime, lifetime: int) -> AccessToken:
        """Mint a token."""
        token = AccessToken(
            value=self._ids.token(64),
            scopes=scopes,
            issued_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
        with self._lock:
            self._tokens[token.value] = token
        return token

    def lookup(self, value: str) -> AccessToken | None:
        """Find a token by its value."""
        with self._lock:
            return self._tokens.get(value)

    def clear(self) -> None:
        """Forget every token (a reset invalidates them, like a Demo Company reset)."""
        with self._lock:
            self._tokens.clear()


def _error(code: str) -> EmulatorResponse:
    return EmulatorResponse(
        status=400,
        headers=(
            ("Content-Type", "application/json; charset=utf-8"),
            ("Cache-Control", "no-store"),
        ),
        body=wire.dumps({"error": code}),
    )


def _client_credentials(
    request: EmulatorRequest, form: dict[str, str]
) -> tuple[str | None, str | None]:
    auth = request.header("authorization") or ""
    if auth.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return form.get("client_id"), form.get("client_secret")


def token_endpoint(
    request: EmulatorRequest,
    config: EmulatorConfig,
    tokens: TokenStore,
    now: datetime,
) -> EmulatorResponse:
    """Answer ``POST /connect/token`` for the client_credentials grant."""
    form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    client_id, secret = _client_credentials(request, form)
    if not (
        client_id
        and secret is not None
        and hmac.compare_digest(client_id.encode(), config.client_id.encode())
        and hmac.compare_digest(secret.encode(), config.client_secret.encode())
    ):
        return _error("invalid_client")
    if form.get("grant_type") != "client_credentials":
        return _error("unsupported_grant_type")
    requested = frozenset(form.get("scope", "").split())
    configured = frozenset(config.scopes)
    if requested - configured:
        return _error("invalid_scope")
    granted = requested or configured
    token = tokens.issue(granted, now, config.token_lifetime)
    body = {
        "access_token": token.value,
        "expires_in": config.token_lifetime,
        "token_type": "Bearer",
        "scope": " ".join(s for s in config.scopes if s in granted),
    }
    return EmulatorResponse(
        status=200,
        headers=(
            ("Content-Type", "application/json; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("Pragma", "no-cache"),
        ),
        body=wire.dumps(body),
    )


def _xero_utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def connections_body(
    config: EmulatorConfig, connection_id: str, created: datetime
) -> list[dict[str, str]]:
    """The ``GET /connections`` array for the one connected organisation."""
    return [
        {
            "id": connection_id,
            "authEventId": connection_id,
            "tenantId": config.tenant_id,
            "tenantType": "ORGANISATION",
            "tenantName": config.organisation_name,
            "createdDateUtc": _xero_utc(created),
            "updatedDateUtc": _xero_utc(created),
        }
    ]
