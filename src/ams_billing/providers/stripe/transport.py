"""``StripeHttp``: every HTTP call to Stripe, with its key, version, pacing, retries and logs.

- **Auth**: ``Authorization: Bearer <key>``, written onto the request by an ``httpx.Auth`` from
  a :class:`~ams_billing.core.secret.Secret`, so no frame of a failure holds the key.
- **Version**: every request carries ``Stripe-Version`` (``STRIPE_API_VERSION``), so answers
  have the shape this provider reads whatever the account's default version.
- **Wire**: POST bodies form-encoded with brackets (:mod:`~ams_billing.providers.stripe.forms`),
  GET parameters in the query string the same way; answers are JSON, read with exact decimals.
- **Idempotency**: every POST carries an ``Idempotency-Key`` (the caller's step key with the
  body's digest, :mod:`~ams_billing.providers.stripe.keys`).
- **Retries** (tenacity, with the injected ``sleep``), only where a retry cannot do the work
  twice: GETs, DELETEs and keyed POSTs (all of this provider's POSTs are keyed). A
  ``Stripe-Should-Retry`` header decides first (``true``: retry, ``false``: never); without
  it, connection failures, 409 and 5xx are retried with exponential backoff and jitter, and a
  429 after ``Retry-After`` when given, else after the backoff (Stripe stores no 429 under a
  key: the limiter sits in front of idempotency). A ``Retry-After`` above
  ``STRIPE_MAX_RETRY_WAIT`` raises :class:`~ams_billing.core.errors.RateLimitedError` at once.
  A 5xx raises :class:`ServerFailureError`; one Stripe *replayed* (``Idempotent-Replayed: true``:
  it kept the 5xx under the key) is raised at once, since the same key gets it back for a day
  (:mod:`~ams_billing.providers.stripe.generations` decides what comes next).
- **Never blind past the key window.** A keyed POST whose attempt may have been applied (the
  connection failed after sending, a 5xx) is resent only while Stripe surely keeps its key:
  :data:`RESEND_WITHIN` seconds (a day less an hour) from the first send, by ``clock``. Later
  the call stops with a retryable :class:`~ams_billing.core.errors.ProviderUnavailableError`,
  and the operation's ledger record stays pending, so the caller's retry looks up what the lost
  attempt made before creating anything (as the Xero provider does with Xero's six minutes).
- **Pacing**: :class:`~ams_billing.providers.stripe.pacing.StripePacing`.

Each attempt is logged on ``ams_billing.stripe`` with method, path, status, duration and
``Request-Id`` (what Stripe support asks for); never a body, a query string or a header.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Collection, Generator, Mapping
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import attrs
import httpx
import tenacity

from ams_billing._version import __version__
from ams_billing.core.errors import ProviderUnavailableError, RateLimitedError
from ams_billing.core.secret import Secret
from ams_billing.providers.attempts import NEVER_SENT, Resends, Transient, network_failure
from ams_billing.providers.stripe import forms
from ams_billing.providers.stripe.errors import error_for_response, stripe_error
from ams_billing.providers.stripe.keys import with_body_digest
from ams_billing.providers.stripe.pacing import StripePacing, key_digest
from ams_billing.providers.stripe.settings import StripeSettings

__all__ = [
    "ADVISED_WAIT",
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "KEY_WINDOW",
    "RESEND_MARGIN",
    "RESEND_WITHIN",
    "USER_AGENT",
    "Call",
    "ServerFailureError",
    "StripeHttp",
]

BACKOFF_BASE = 0.5
"""Seconds before the first retry; doubled each time (stripe-python's base), plus jitter."""

BACKOFF_MAX = 5.0
"""The longest backoff between two attempts (stripe-python's cap), before jitter."""

KEY_WINDOW = 86_400.0
"""Seconds Stripe keeps an ``Idempotency-Key`` at least (keys are pruned once 24 h old, 5)."""

RESEND_MARGIN = 3_600.0
"""Seconds of the window a resend does not use: its own trip and a difference of clocks."""

RESEND_WITHIN = KEY_WINDOW - RESEND_MARGIN
"""Seconds after the first send within which a write that may have been applied is resent."""

ADVISED_WAIT = 1.0
"""Seconds a :class:`RateLimitedError` advises waiting when Stripe sends no ``Retry-After``
(it documents none): its rate limits count requests per second."""

USER_AGENT = f"ams-billing/{__version__} (+https://github.com/ams-billing/ams-billing)"
"""The ``User-Agent`` every request carries."""

logger = logging.getLogger("ams_billing.stripe")

_ID_SEGMENT = re.compile(r"/(?:cus|in|ii|il|evt|we|clock|txr|cn)_[A-Za-z0-9]+")


@attrs.frozen
class Call:
    """One logical request; retried attempts send it again unchanged."""

    method: str
    path: str
    params: forms.Params = attrs.field(factory=dict, repr=False)
    idempotency_key: str | None = None
    expect: Collection[int] = (200,)
    resource_id: str | None = None
    fields: Mapping[str, str] | None = attrs.field(default=None, repr=False)
    search: bool = False

    @property
    def safe_to_retry(self) -> bool:
        """Whether sending this call twice cannot do its work twice."""
        return self.method in ("GET", "DELETE") or self.idempotency_key is not None

    @property
    def operation(self) -> str:
        """The endpoint, ids replaced: ``POST /v1/invoices/{id}/finalize`` (pacing, logs)."""
        return f"{self.method} {_ID_SEGMENT.sub('/{id}', self.path)}"


class ServerFailureError(ProviderUnavailableError):
    """A 5xx from Stripe (retryable); ``replayed`` when Stripe kept it under the request's key.

    A replayed one is raised at once, without resending: every request with that key gets the
    same answer for 24 hours (:mod:`~ams_billing.providers.stripe.generations` moves the step
    to a new key once it proved nothing was made).
    """

    def __init__(self, message: str, *, replayed: bool, should_retry: bool | None) -> None:
        super().__init__(message)
        self.replayed = replayed
        self.should_retry = should_retry


class _Bearer(httpx.Auth):
    """Writes ``Authorization: Bearer <key>`` as httpx sends the request, from a Secret."""

    def __init__(self, key: Secret) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "<_Bearer Authorization>"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Set the header and send the request once."""
        request.headers["Authorization"] = f"Bearer {self._key.reveal()}"
        yield request


class StripeHttp:
    """The HTTP layer of the Stripe provider: one ``httpx.Client`` and the account's pacing.

    :param transport: an ``httpx.BaseTransport`` (the emulator's in tests); ``None``: real HTTP.
    :param clock: monotonic seconds, for pacing and the resend rule.
    :param sleep: waits that many seconds (retries, pacing); tests inject a virtual one.
    """

    def __init__(
        self,
        settings: StripeSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._sleep = sleep
        self._auth = _Bearer(settings.secret_key)
        self.client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(settings.timeout),
            headers={
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
                "Stripe-Version": settings.api_version,
            },
            follow_redirects=False,
        )
        self.pacing = StripePacing(
            live=settings.livemode,
            key_id=key_digest(settings.secret_key.reveal()),
            clock=clock,
            sleep=sleep,
            time_scale=settings.rate_limit_time_scale,
            max_wait=settings.max_retry_wait,
            redis_url=settings.rate_limit_redis_url,
            slot_timeout=settings.timeout + 5,
        )
        self._random = random.Random()  # noqa: S311 - jitter, not security

    def __repr__(self) -> str:
        return f"<StripeHttp {self.settings.api_base}>"

    def close(self) -> None:
        """Close the HTTP client and its connections."""
        self.client.close()

    # -- calls -----------------------------------------------------------------------------

    def get(self, path: str, params: forms.Params | None = None, **options: Any) -> Any:
        """GET ``/v1{path}``; the parsed JSON answer."""
        return self.send(Call("GET", path, params or {}, **options))

    def post(self, path: str, params: forms.Params, *, key: str, **options: Any) -> Any:
        """POST ``/v1{path}`` with ``params``, under the step key ``key``; the parsed answer."""
        return self.send(Call("POST", path, params, idempotency_key=key, **options))

    def post_fresh(
        self, path: str, params: forms.Params, *, key: str, **options: Any
    ) -> tuple[Any, bool]:
        """:meth:`post`, and whether this call did the work (``False``: Stripe replayed it).

        An answer Stripe replayed (``Idempotent-Replayed: true``) to a retry of this call's
        own attempt, whose answer was lost on the way, is still this call's work.
        """
        return self.send_fresh(Call("POST", path, params, idempotency_key=key, **options))

    def delete(self, path: str, **options: Any) -> Any:
        """DELETE ``/v1{path}``; the parsed answer."""
        return self.send(Call("DELETE", path, **options))

    def send(self, call: Call) -> Any:
        """Send ``call`` with retries; the parsed JSON, or raise the core's error."""
        return self.send_fresh(call)[0]

    def send_fresh(self, call: Call) -> tuple[Any, bool]:
        """:meth:`send`, and whether the answer is this call's work, not an earlier one's."""
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
            response: httpx.Response = retrying(self._attempt, call, resends)
        except Transient as failure:
            raise failure.error from None
        replayed = response.headers.get("idempotent-replayed", "").strip().lower() == "true"
        try:
            body = json.loads(response.content or b"null", parse_float=Decimal)
        except (ValueError, RecursionError):
            raise ProviderUnavailableError(
                f"Stripe answered {call.operation} with a body that is not JSON"
            ) from None
        return body, not replayed or resends.maybe_applied

    # -- machinery -------------------------------------------------------------------------

    def _wait(self, state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, Transient) and failure.retry_after is not None:
            return failure.retry_after / self.settings.rate_limit_time_scale
        backoff: float = min(BACKOFF_MAX, BACKOFF_BASE * 2.0 ** (state.attempt_number - 1))
        jittered = backoff * self._random.uniform(0.5, 1.0)
        return max(BACKOFF_BASE, jittered) / self.settings.rate_limit_time_scale

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "Stripe call failed (%s); attempt %d, retrying in %.1f s",
            failure,
            state.attempt_number,
            wait,
        )

    def _request(self, call: Call) -> httpx.Request:
        url = f"{self.settings.api_url}{call.path}"
        headers: dict[str, str] = {}
        content: bytes | None = None
        if call.method == "POST":
            content = forms.encode(call.params).encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            if call.idempotency_key is not None:
                headers["Idempotency-Key"] = with_body_digest(call.idempotency_key, content)
        elif call.params:
            url = f"{url}?{forms.encode(call.params)}"
        return self.client.build_request(call.method, url, content=content, headers=headers)

    def _attempt(self, call: Call, resends: Resends) -> httpx.Response:
        blocked, limit = self.pacing.blocked()
        if blocked > self.settings.max_retry_wait:
            raise RateLimitedError(
                f"Stripe's {limit or 'rate'} limit is spent for another {blocked:.0f} s; "
                "try again later",
                retry_after=blocked,
                limit=limit,
            )
        request = self._request(call)
        started = time.perf_counter()
        try:
            with self.pacing.slot(call.operation, search=call.search):
                self._before_send(call, resends)
                response = self.client.send(request, auth=self._auth)
        except httpx.TransportError as error:
            logger.info(
                "Stripe %s failed after %.0f ms: %s",
                call.operation,
                (time.perf_counter() - started) * 1000,
                type(error).__name__,
            )
            if not isinstance(error, NEVER_SENT):
                resends.maybe_applied = True
            raise network_failure("Stripe", error, safe_to_retry=call.safe_to_retry) from None
        logger.log(
            logging.DEBUG if response.is_success else logging.INFO,
            "Stripe %s -> %d in %.0f ms (Request-Id %s)",
            call.operation,
            response.status_code,
            (time.perf_counter() - started) * 1000,
            response.headers.get("request-id", "-"),
        )
        return self._judge(call, response, resends)

    def _before_send(self, call: Call, resends: Resends) -> None:
        """Note the first send; refuse a resend Stripe's key window may no longer cover."""
        now = self._clock()
        if resends.first_sent is None:
            resends.first_sent = now
            return
        if not (resends.maybe_applied and call.method == "POST" and call.idempotency_key):
            return
        elapsed = (now - resends.first_sent) * self.settings.rate_limit_time_scale
        if elapsed > RESEND_WITHIN:
            logger.warning(
                "Stripe %s: not resent, %.0f s after its first send an earlier attempt may "
                "have been applied and Stripe may have pruned its Idempotency-Key",
                call.operation,
                elapsed,
            )
            raise ProviderUnavailableError(
                f"the outcome of this call to Stripe is unknown and {elapsed:.0f} s have passed "
                f"since it was first sent (Stripe keeps an Idempotency-Key {KEY_WINDOW:.0f} s), "
                "so it was not sent again; retry with the same idempotency key, which first "
                "looks for what the earlier attempt made",
                retryable=True,
            )

    def _judge(self, call: Call, response: httpx.Response, resends: Resends) -> httpx.Response:
        status = response.status_code
        if status in call.expect:
            return response
        error = error_for_response(
            response,
            resource_id=call.resource_id,
            idempotency_key=call.idempotency_key,
            fields=dict(call.fields) if call.fields else None,
        )
        should_retry = stripe_error(response).should_retry
        if status >= 500:
            resends.maybe_applied = True
            replayed = response.headers.get("idempotent-replayed", "").strip().lower() == "true"
            error = ServerFailureError(str(error), replayed=replayed, should_retry=should_retry)
            if replayed and call.idempotency_key is not None:
                # Stripe kept this 5xx under the key: the same key gets it back for 24 hours.
                raise error
        if isinstance(error, RateLimitedError):
            return self._rate_limited(call, response, error, should_retry)
        retryable = status == 409 or status >= 500
        if should_retry is not None:
            retryable = should_retry
        if retryable and call.safe_to_retry:
            raise Transient(error)
        if retryable and isinstance(error, ProviderUnavailableError):
            raise ProviderUnavailableError(
                f"{error}; the request carried no idempotency key, so it was not repeated",
                retryable=False,
            )
        raise error

    def _rate_limited(
        self,
        call: Call,
        response: httpx.Response,
        error: RateLimitedError,
        should_retry: bool | None,
    ) -> httpx.Response:
        retry_after = _retry_after(response.headers.get("retry-after"))
        # Stripe documents no Retry-After: its limits are per second, so advise a second.
        advised = ADVISED_WAIT / self.settings.rate_limit_time_scale
        limited = RateLimitedError(
            str(error)
            + (
                f"; Stripe asks to wait {retry_after:.0f} s"
                if retry_after is not None
                else f"; wait at least {advised:g} s"
            ),
            retry_after=advised if retry_after is None else retry_after,
            limit=error.limit,
        )
        if retry_after is not None:
            self.pacing.hold_off(retry_after, error.limit)
            if retry_after > self.settings.max_retry_wait:
                raise limited
        if should_retry is False:
            raise limited
        # Stripe stores no 429 under an idempotency key: resending cannot do the work twice.
        raise Transient(limited, retry_after=retry_after)


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
    import datetime as _dt  # noqa: PLC0415 - only for the rare HTTP-date form

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return max(0.0, (moment - _dt.datetime.now(_dt.UTC)).total_seconds())
