"""Client-credentials tokens for a Xero Custom Connection, minted once and shared.

A token lives 30 minutes and has no refresh token: :class:`TokenCache` mints one with
``POST {identity}/connect/token`` (HTTP Basic, ``grant_type=client_credentials``, no ``scope``
unless ``XERO_SCOPES`` asks for some), keeps it, and mints the next one a minute before the
old one runs out. Minting happens under a lock, so a hundred threads that find the token stale
cause one request, not a hundred. The transport calls :meth:`TokenCache.invalidate` when Xero
answers ``401 TokenExpired`` anyway (a clock skew, a reset), then retries once.

Tokens and the Basic credentials are handed around as :class:`~.settings.Secret`, never as
plain strings, so no frame of a failure holds them where an error reporter that records local
variables (Sentry's default) would find them; the transport reveals them only inside the
request's ``httpx.Auth`` flow.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Protocol

import attrs
import cattrs
import httpx

from ams_billing.core.errors import AuthenticationError, ProviderUnavailableError
from ams_billing.providers.xero import wire
from ams_billing.providers.xero.errors import CREDENTIALS_FIX, SCOPE_FIX
from ams_billing.providers.xero.settings import Secret, XeroSettings

__all__ = ["RENEW_BEFORE", "MintedToken", "TokenCache", "TokenPoster", "basic_auth", "mint_token"]

RENEW_BEFORE = 60.0
"""Seconds before expiry at which a token is replaced (as xero-python does)."""

logger = logging.getLogger("ams_billing.xero")


@attrs.frozen
class MintedToken:
    """A fresh access token and how many seconds it lives (the value never shows in repr)."""

    value: str = attrs.field(repr=False)
    expires_in: float


class TokenPoster(Protocol):
    """Something that can POST a form to the token endpoint (the transport)."""

    def post_token(self, form: dict[str, str], authorization: Secret) -> httpx.Response:
        """POST ``form`` with this ``Authorization`` header; return the response (any status)."""


def basic_auth(settings: XeroSettings) -> Secret:
    """The ``Authorization: Basic ...`` value for the client credentials, kept secret."""
    pair = f"{settings.client_id}:{settings.client_secret.reveal()}".encode()
    return Secret("Basic " + base64.b64encode(pair).decode("ascii"))


def mint_token(poster: TokenPoster, settings: XeroSettings) -> MintedToken:
    """Ask the token endpoint for a client-credentials token; map its refusals to errors."""
    form = {"grant_type": "client_credentials"}
    if settings.scopes:
        form["scope"] = " ".join(settings.scopes)
    response = poster.post_token(form, basic_auth(settings))
    if response.status_code == 200:
        try:
            token = wire.structure(wire.loads(response.content), wire.TokenResponse)
        except (ValueError, TypeError, cattrs.BaseValidationError):
            raise ProviderUnavailableError(
                "Xero's token endpoint sent an unreadable answer"
            ) from None
        logger.info("minted a Xero access token valid for %d s", token.expires_in)
        return MintedToken(token.access_token, float(token.expires_in))
    raise _token_error(response)


def _token_error(response: httpx.Response) -> Exception:
    code = ""
    with contextlib.suppress(ValueError, TypeError, cattrs.BaseValidationError):
        code = wire.structure(wire.loads(response.content), wire.TokenError).error or ""
    if code == "invalid_client":
        return AuthenticationError(
            f"Xero refused the client credentials (invalid_client): {CREDENTIALS_FIX}"
        )
    if code == "invalid_scope":
        return AuthenticationError(
            "Xero refused the requested scopes (invalid_scope): set XERO_SCOPES only to scopes "
            "the custom connection has, or leave it empty to get all of them"
        )
    if code == "unauthorized_client":
        return AuthenticationError(
            "Xero refused the client (unauthorized_client): XERO_CLIENT_ID must be a Custom "
            "connection app that is enabled and authorised; " + CREDENTIALS_FIX
        )
    if response.status_code in (400, 401, 403):
        return AuthenticationError(
            f"Xero's token endpoint refused the request (HTTP {response.status_code}"
            f"{', ' + code if code else ''}): {CREDENTIALS_FIX}; {SCOPE_FIX}"
        )
    return ProviderUnavailableError(f"Xero's token endpoint answered HTTP {response.status_code}")


class TokenCache:
    """Holds the current token and renews it, one minting caller at a time.

    The cache can be shared by several transports of one custom connection (each passes its
    own ``mint`` to :meth:`get`), so a process that builds many providers still mints once.

    :param clock: monotonic seconds; the token is renewed :data:`RENEW_BEFORE` early.
    :param time_scale: how many of Xero's seconds pass in one second of ``clock`` (1 but
        against an emulator whose clock is sped up, ``AMS_BILLING_RATE_LIMIT_TIME_SCALE``,
        as for the pacer): a token's ``expires_in`` and :data:`RENEW_BEFORE` are Xero seconds,
        so at scale 60 an 1,800 s token lives 30 seconds of ``clock``.
    """

    def __init__(self, clock: Callable[[], float], time_scale: float = 1.0) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be positive, not {time_scale!r}")
        self._clock = clock
        self._time_scale = time_scale
        self._renew_before = RENEW_BEFORE / time_scale
        self._lock = threading.Lock()
        self._current: tuple[Secret, float] | None = None
        self.mints = 0

    def __repr__(self) -> str:
        state = "empty" if self._current is None else "holding a token"
        return f"<TokenCache {state}, {self.mints} minted>"

    def get(self, mint: Callable[[], MintedToken]) -> Secret:
        """Return a token valid for at least another minute, minting one with ``mint`` if not."""
        current = self._current
        if current is not None and self._clock() < current[1] - self._renew_before:
            return current[0]
        with self._lock:
            current = self._current
            if current is not None and self._clock() < current[1] - self._renew_before:
                return current[0]
            started = self._clock()
            minted = mint()
            self.mints += 1
            expires = started + minted.expires_in / self._time_scale
            self._current = (Secret(minted.value), expires)
            return self._current[0]

    def invalidate(self, token: Secret) -> None:
        """Forget ``token`` (Xero refused it); a newer token minted meanwhile is kept."""
        with self._lock:
            if self._current is not None and self._current[0] == token:
                self._current = None
