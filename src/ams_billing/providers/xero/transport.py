"""``XeroHttp``: every HTTP call to Xero, with its token, pacing, retries and logging.

Retries (tenacity, with an injected ``sleep``):

- **429**: waits ``Retry-After`` seconds and tries again, whatever the method (Xero refused the
  call before doing anything). A ``Retry-After`` above ``max_retry_wait`` (the daily limit can
  say hours) raises :class:`~ams_billing.core.errors.RateLimitedError` with ``retry_after``
  at once, and every later call fails the same way, without a request, until that time.
- **5xx, timeouts, dropped connections**: exponential backoff with jitter, but only where a
  retry cannot do the work twice: reads, and writes that carry an ``Idempotency-Key``. A
  connection that could not even be opened is retried for every method.
- **401 TokenExpired** (or an unknown token): the token is minted again once and the call
  repeated; a second refusal is an :class:`~ams_billing.core.errors.AuthenticationError`.
- **Never blind past Xero's key window.** A keyed write whose attempt may have been applied (the
  connection failed after sending, or a 5xx) is resent only while Xero still remembers its
  ``Idempotency-Key`` and would replay the first answer: :data:`RESEND_WITHIN` seconds of
  Xero's time from the first attempt's send, by this instance's ``clock`` (scaled by
  ``rate_limit_time_scale``). Later (a process paused for minutes, long waits adding up), the
  call stops with a retryable :class:`~ams_billing.core.errors.ProviderUnavailableError`
  instead. The operation's ledger record then stays *pending*, so the caller's retry looks up
  what the lost attempt made before creating anything (invoices, contacts, emails).

Each attempt is logged on ``ams_billing.xero`` with method, path, status, duration and
``Xero-Correlation-Id`` (what Xero support asks for). This module never logs bodies, query
strings or headers, so neither personal data nor the ``Authorization`` header reach a log
(httpx's own INFO line shows the URL with its query, and no header either). The token and the
Basic credentials stay :class:`~.settings.Secret` until :class:`_SecretHeader`, an
``httpx.Auth``, writes the header onto the outgoing request: no frame of a failure holds them.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable, Collection, Generator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import attrs
import httpx
import tenacity

from ams_billing._version import __version__
from ams_billing.core.errors import ProviderUnavailableError, RateLimitedError
from ams_billing.providers.attempts import NEVER_SENT, Resends, Transient, network_failure
from ams_billing.providers.xero import wire
from ams_billing.providers.xero.auth import MintedToken, TokenCache, mint_token
from ams_billing.providers.xero.errors import Kind, error_for_response, problem_detail
from ams_billing.providers.xero.ledger import with_body_digest
from ams_billing.providers.xero.pacing import Pacer
from ams_billing.providers.xero.settings import Secret, XeroSettings

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "KEY_WINDOW",
    "RESEND_MARGIN",
    "RESEND_WITHIN",
    "USER_AGENT",
    "Call",
    "XeroHttp",
]

BACKOFF_BASE = 0.5
"""Seconds before the first retry of a failed call; doubled each time, plus up to as much jitter."""

BACKOFF_MAX = 8.0
"""The longest backoff between two attempts (before jitter)."""

KEY_WINDOW = 360.0
"""Seconds Xero keeps an ``Idempotency-Key`` and replays its first answer (six minutes, from
third-party notes on Xero's idempotency guide; the emulator keeps keys as long)."""

RESEND_MARGIN = 60.0
"""Seconds of the window a resend does not use: the resend's own trip to Xero (the client's
``timeout``, 30 s by default, bounds sending it) and a difference between our clock and Xero's."""

RESEND_WITHIN = KEY_WINDOW - RESEND_MARGIN
"""Xero's seconds after its first send within which a write that may have been applied is
resent; after that the call stops, and the caller's retry looks the write up instead."""

USER_AGENT = f"ams-billing/{__version__} (+https://github.com/ams-billing/ams-billing)"
"""The ``User-Agent`` every request carries."""

logger = logging.getLogger("ams_billing.xero")

_TOKEN_REJECTED = ("tokenexpired", "authenticationunsuccessful", "invalid_token")


@attrs.frozen
class Call:
    """One logical request; retried attempts send it again unchanged.

    ``retry_safe`` defaults to true for GET and for writes carrying an idempotency key.
    ``authorization`` is the header value of an unauthenticated call (the token request's
    Basic credentials); authenticated calls get the bearer token on each attempt.
    """

    method: str
    url: str
    params: Mapping[str, str] = attrs.field(factory=dict)
    content: bytes | None = attrs.field(default=None, repr=False)
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    expect: Collection[int] = (200,)
    idempotency_key: str | None = None
    authenticated: bool = True
    paced: bool = True
    retry_safe: bool | None = None
    kind: Kind = "invoice"
    resource_id: str | None = None
    authorization: Secret | None = attrs.field(default=None, repr=False)

    @property
    def safe_to_retry(self) -> bool:
        """Whether sending this call twice cannot do its work twice."""
        if self.retry_safe is not None:
            return self.retry_safe
        return self.method == "GET" or self.idempotency_key is not None


class _SecretHeader(httpx.Auth):
    """Writes ``Authorization`` onto the request as httpx sends it, from a :class:`Secret`.

    The value is revealed only in this flow's frame, which is gone before any failure of the
    exchange propagates, so error reporters that record frame locals never see it.
    """

    def __init__(self, value: Secret) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "<_SecretHeader Authorization>"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Set the header and send the request once."""
        request.headers["Authorization"] = self._value.reveal()
        yield request


def _bearer(token: Secret) -> Secret:
    return Secret(f"Bearer {token.reveal()}")


class XeroHttp:
    """The HTTP layer of the provider: one ``httpx.Client``, a token cache and a pacer.

    Over the real network with the real clock, the token cache and the pacer are those of the
    connection, shared by every instance in the process; with an injected transport, clock or
    sleep (tests, the emulator) they are the instance's own.

    :param transport: an ``httpx.BaseTransport`` (the emulator's in-process one in tests);
        ``None`` uses real HTTP.
    :param clock: monotonic seconds, for token expiry and pacing.
    :param sleep: waits that many seconds (retries and pacing); tests inject a virtual one.
    """

    def __init__(
        self,
        settings: XeroSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._sleep = sleep
        self.client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(settings.timeout),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            follow_redirects=False,
        )
        if transport is None and clock is time.monotonic and sleep is time.sleep:
            self.tokens, self.pacer = _shared_state(settings)
        else:
            self.tokens = TokenCache(clock, settings.rate_limit_time_scale)
            self.pacer = Pacer.for_settings(settings, clock=clock, sleep=sleep)
        self._random = random.Random()  # noqa: S311 - jitter, not security

    def __repr__(self) -> str:
        return f"<XeroHttp {self.settings.api_base}>"

    def _mint(self) -> MintedToken:
        return mint_token(self, self.settings)

    def close(self) -> None:
        """Close the HTTP client and its connections."""
        self.client.close()

    # -- the two kinds of call ---------------------------------------------------------

    def api(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        expect: Collection[int] = (200,),
        kind: Kind = "invoice",
        resource_id: str | None = None,
    ) -> httpx.Response:
        """Call the Accounting API at ``{api_base}{path}``; raise the core's error on failure.

        ``body`` is JSON-ready data (Decimals exact); responses with a status in ``expect``
        are returned, anything else raises. ``idempotency_key`` gets a digest of the body
        appended before it is sent.
        """
        extra = dict(headers or {})
        content = None
        if body is not None:
            content = wire.dumps(body)
            extra["Content-Type"] = "application/json"
        if idempotency_key is not None:
            idempotency_key = with_body_digest(idempotency_key, content)
            extra["Idempotency-Key"] = idempotency_key
        if self.settings.tenant_id:
            extra["xero-tenant-id"] = self.settings.tenant_id
        call = Call(
            method=method,
            url=f"{self.settings.api_base}{path}",
            params=dict(params or {}),
            content=content,
            headers=extra,
            expect=expect,
            idempotency_key=idempotency_key,
            kind=kind,
            resource_id=resource_id,
        )
        return self.send(call)

    def post_token(self, form: dict[str, str], authorization: Secret) -> httpx.Response:
        """POST the token request (retried like a read: minting twice does no harm)."""
        call = Call(
            method="POST",
            url=self.settings.token_url,
            content=_form(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            authorization=authorization,
            expect=(200, 400, 401, 403),
            authenticated=False,
            paced=False,
            retry_safe=True,
        )
        return self.send(call)

    # -- machinery ---------------------------------------------------------------------

    def send(self, call: Call) -> httpx.Response:
        """Send ``call`` with retries; return the response or raise the core's error."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.settings.max_attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(Transient),
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        resends = Resends()
        try:
            return retrying(self._attempt, call, resends)
        except Transient as failure:
            raise failure.error from None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, Transient) and failure.retry_after is not None:
            return failure.retry_after
        backoff: float = min(BACKOFF_MAX, BACKOFF_BASE * 2.0 ** (state.attempt_number - 1))
        return backoff + self._random.uniform(0, BACKOFF_BASE)

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "Xero call failed (%s); attempt %d, retrying in %.1f s",
            failure,
            state.attempt_number,
            wait,
        )

    def _attempt(self, call: Call, resends: Resends) -> httpx.Response:
        if call.paced:
            blocked, limit = self.pacer.blocked()
            if blocked > self.settings.max_retry_wait:
                raise RateLimitedError(
                    f"Xero's {limit or 'rate'} limit is spent for another {blocked:.0f} s; "
                    "try again later",
                    retry_after=blocked,
                    limit=limit,
                )
        reminted = False
        while True:
            token = None
            authorization = call.authorization
            if call.authenticated:
                token = self.tokens.get(self._mint)
                authorization = _bearer(token)
            response = self._exchange(call, authorization, resends)
            if (
                token is not None
                and response.status_code == 401
                and not reminted
                and any(word in problem_detail(response).lower() for word in _TOKEN_REJECTED)
            ):
                logger.info("Xero refused the access token; minting a new one")
                self.tokens.invalidate(token)
                reminted = True
                continue
            return self._judge(call, response, resends)

    def _exchange(
        self, call: Call, authorization: Secret | None, resends: Resends
    ) -> httpx.Response:
        request = self.client.build_request(
            call.method,
            call.url,
            params=call.params or None,
            content=call.content,
            headers=dict(call.headers),
        )
        auth = _SecretHeader(authorization) if authorization is not None else None
        started = time.perf_counter()
        try:
            if call.paced:
                with self.pacer.slot():
                    self._before_send(call, resends)
                    response = self.client.send(request, auth=auth)
            else:
                self._before_send(call, resends)
                response = self.client.send(request, auth=auth)
        except httpx.TransportError as error:
            elapsed = (time.perf_counter() - started) * 1000
            logger.info(
                "Xero %s %s failed after %.0f ms: %s",
                call.method,
                request.url.path,
                elapsed,
                type(error).__name__,
            )
            if not isinstance(error, NEVER_SENT):
                resends.maybe_applied = True
            raise network_failure("Xero", error, safe_to_retry=call.safe_to_retry) from None
        elapsed = (time.perf_counter() - started) * 1000
        correlation = response.headers.get("xero-correlation-id", "-")
        level = logging.DEBUG if response.is_success else logging.INFO
        logger.log(
            level,
            "Xero %s %s -> %d in %.0f ms (Xero-Correlation-Id %s)",
            call.method,
            request.url.path,
            response.status_code,
            elapsed,
            correlation,
        )
        if call.paced and response.status_code != 429:
            # A 429's Retry-After is the authority on when to call again, not its counters.
            self.pacer.observe(response.headers)
        return response

    def _before_send(self, call: Call, resends: Resends) -> None:
        """Note the first send; refuse a resend Xero's key window may no longer cover.

        Checked as late as possible (after pacing and minting), right before the request goes.
        """
        now = self._clock()
        if resends.first_sent is None:
            resends.first_sent = now
            return
        if not (resends.maybe_applied and call.method != "GET" and call.idempotency_key):
            return
        elapsed = (now - resends.first_sent) * self.settings.rate_limit_time_scale
        if elapsed > RESEND_WITHIN:
            logger.warning(
                "Xero %s %s: not resent, %.0f s after its first send an earlier attempt may "
                "have been applied and Xero may have forgotten its Idempotency-Key",
                call.method,
                httpx.URL(call.url).path,
                elapsed,
            )
            raise ProviderUnavailableError(
                f"the outcome of this call to Xero is unknown and {elapsed:.0f} s have passed "
                f"since it was first sent (Xero keeps its Idempotency-Key about "
                f"{KEY_WINDOW:.0f} s), so it was not sent again; retry with the same "
                "idempotency key, which first looks for what the earlier attempt made",
                retryable=True,
            )

    def _judge(self, call: Call, response: httpx.Response, resends: Resends) -> httpx.Response:
        status = response.status_code
        if status in call.expect:
            return response
        if status == 429:
            raise self._rate_limited(call, response)
        error = error_for_response(
            response,
            kind=call.kind,
            resource_id=call.resource_id,
            idempotency_key=call.idempotency_key,
        )
        if status >= 500 and status != 501:
            resends.maybe_applied = True
            if call.safe_to_retry:
                raise Transient(error)
            raise ProviderUnavailableError(
                f"{error}; the request carried no idempotency key, so it was not repeated",
                retryable=False,
            )
        raise error

    def _rate_limited(self, call: Call, response: httpx.Response) -> Exception:
        limit = response.headers.get("x-rate-limit-problem") or None
        retry_after = _retry_after(response.headers.get("retry-after"))
        error = RateLimitedError(
            f"Xero's {limit or 'rate'} limit was reached"
            + (f"; it asks to wait {retry_after:.0f} s" if retry_after is not None else ""),
            retry_after=retry_after,
            limit=limit,
        )
        if retry_after is None:
            return Transient(error)
        if call.paced:
            self.pacer.hold_off(retry_after, limit)
        if retry_after > self.settings.max_retry_wait:
            return error
        return Transient(error, retry_after=retry_after)


_SHARED: dict[tuple[str, ...], tuple[TokenCache, Pacer]] = {}
_SHARED_LOCK = threading.Lock()


def _shared_state(settings: XeroSettings) -> tuple[TokenCache, Pacer]:
    """The token cache and pacer of one connection, shared by every provider in the process.

    An AMS that builds a service per request (the old one did) then still mints one token per
    half hour and paces all its calls together, as Xero counts them per tenant.
    """
    secret = hashlib.sha256(settings.client_secret.reveal().encode()).hexdigest()
    key = (
        settings.token_url,
        settings.api_base,
        settings.client_id,
        secret,
        settings.tenant_id or "",
        " ".join(settings.scopes),
        settings.rate_limit_redis_url or "",
        str(settings.rate_limit_time_scale),
    )
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = (
                TokenCache(time.monotonic, settings.rate_limit_time_scale),
                Pacer.for_settings(settings),
            )
        return _SHARED[key]


def _form(form: Mapping[str, str]) -> bytes:
    return str(httpx.QueryParams(form)).encode("ascii")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
