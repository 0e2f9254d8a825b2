"""The engine: authentication, routing, limits, faults, idempotency, events and deliveries.

Order of checks for an API call: API key (401) → route (404 ``Unrecognized request URL``) →
parameters (400, form syntax and ``expand``) → rate limits (429) → injected fault →
``Idempotency-Key`` (replay or 400 ``idempotency_error``) → handler. Every request is answered
and logged; an unexpected exception becomes a logged 500 ``api_error``, never a cut connection.
Only an injected ``drop_before``/``drop_after`` cuts one (and is logged as ``dropped``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
from datetime import timedelta
from typing import Any

import attrs
import httpx

from ams_billing.emulators.common.messages import (
    ConnectionDropped,
    EmulatorError,
    EmulatorRequest,
    EmulatorResponse,
)
from ams_billing.emulators.xero.holds import HeldCall, HoldRegistry, ResponseHold

from .calllog import CallLog, CallRecord, CallSummary
from .clock import EmulatorClock, unix
from .config import StripeEmulatorConfig
from .context import Context, PendingEvent
from .control import handle_control
from .errors import StripeError, error_body
from .events import event_json, record_event, retained
from .faults import FaultKind, FaultRule, FaultRuleSet
from .form import Params, parse_form, parse_pairs
from .idempotency import MAX_KEY_LENGTH, ReplayCache, StoredAnswer, request_digest
from .ids import IdFactory
from .invoices import pay_out_of_band
from .limits import RateLimiter
from .routes import Route, match_route
from .search import index_entry
from .shapes import customer_json, endpoint_json, invoice_json
from .state import Account, WebhookEndpoint
from .transport import StripeTransport
from .webhooks import (
    DeliveryAttempt,
    Poster,
    WebhookSender,
    delivery_headers,
    encode_event,
    signature_header,
)

__all__ = ["StripeEngine"]

_logger = logging.getLogger(__name__)
JSON_TYPE = "application/json"


def json_answer(
    status: int, body: Any, request_id: str, headers: tuple[tuple[str, str], ...] = ()
) -> EmulatorResponse:
    """A JSON response with Stripe's ``Request-Id`` header."""
    return EmulatorResponse(
        status=status,
        headers=(("Content-Type", JSON_TYPE), ("Request-Id", request_id), *headers),
        body=json.dumps(body, indent=2).encode(),
    )


def error_answer(error: StripeError, request_id: str) -> EmulatorResponse:
    """Stripe's error object for ``error``."""
    return json_answer(error.status, error.body(request_id), request_id, error.headers)


def _masked(key: str) -> str:
    return f"{key[:8]}{'*' * 4}{key[-4:]}" if len(key) > 12 else "****"


class StripeEngine:
    """A stateful, thread-safe stand-in for one Stripe test-mode account (no sockets)."""

    def __init__(
        self,
        config: StripeEmulatorConfig | None = None,
        *,
        clock: EmulatorClock | None = None,
        poster: Poster | None = None,
    ) -> None:
        self.config = config or StripeEmulatorConfig()
        self.clock = clock or EmulatorClock.virtual()
        self.hosted_base = self.config.hosted_base
        self._lock = threading.RLock()
        self._ids = IdFactory(self.config.seed)
        self._limiter = RateLimiter(self.config.rate_limits, self.clock)
        self._idempotency = ReplayCache(self.config.idempotency_window)
        self._faults = FaultRuleSet(self.config.seed ^ 0xFA7)
        self._holds = HoldRegistry()
        self._sender = WebhookSender(self.config.webhook_timeout, poster)
        self._log = CallLog()
        self._search_delay = self.config.search_indexing_delay
        self._account = self._new_account()
        self._deliveries: list[DeliveryAttempt] = []

    def _new_account(self) -> Account:
        return Account(country=self.config.account_country, display_name=self.config.account_name)

    # ----------------------------------------------------------------- controls

    @property
    def calls(self) -> list[CallRecord]:
        """The call log, oldest first."""
        return self._log.records

    def call_summary(self) -> CallSummary:
        """Counts over the call log."""
        return self._log.summary()

    def add_fault(self, rule: FaultRule) -> None:
        """Inject a fault into matching calls."""
        self._faults.add(rule)

    @property
    def fault_rules(self) -> list[FaultRule]:
        """The active fault rules, in the order added."""
        return self._faults.rules

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._faults.clear()

    def hold_responses(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        count: int = 1,
        timeout: float = 60.0,
    ) -> ResponseHold:
        """Hold the answers of the next ``count`` matching applied writes (see Xero's holds)."""
        return self._holds.add(ResponseHold(method, path, count, timeout))

    def release_holds(self) -> None:
        """Release every armed hold."""
        self._holds.clear()

    @property
    def search_indexing_delay(self) -> float:
        """Seconds before changes show in search."""
        return self._search_delay

    def set_search_indexing_delay(self, seconds: float) -> None:
        """Change the search indexing delay (applies to later changes)."""
        if not seconds >= 0:
            raise ValueError("the search indexing delay is zero or more seconds")
        self._search_delay = float(seconds)

    def advance_clock(self, seconds: float | timedelta) -> None:
        """Move the emulator's clock forward."""
        amount = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        self.clock.advance(amount)

    def reset(self) -> None:
        """Forget every object, event, key, fault, hold and call (the clock stays)."""
        with self._lock:
            self._account = self._new_account()
            self._limiter.reset()
            self._idempotency.clear()
            self._faults.clear()
            self._holds.clear()
            self._log.clear()
            self._deliveries.clear()

    def state(self) -> dict[str, Any]:
        """Every live object, for tests and the control surface."""
        with self._lock:
            account = self._account
            return {
                "customers": [customer_json(c) for c in account.customers.values()],
                "invoices": [
                    invoice_json(account, i) for i in account.invoices.values() if not i.deleted
                ],
                "webhook_endpoints": [
                    endpoint_json(e) for e in account.endpoints.values() if not e.deleted
                ],
                "events": len(account.events),
            }

    def _control_context(self) -> Context:
        return Context(
            account=self._account,
            config=self.config,
            clock=self.clock,
            ids=self._ids,
            params=Params({}),
            request_id="",
            hosted_base=self.hosted_base,
            index=self._index,
        )

    def pay_invoice(self, invoice_id: str) -> dict[str, Any]:
        """Mark an invoice paid out of band, as a dashboard user would; emits ``invoice.paid``.

        Raises :class:`EmulatorError` when Stripe would refuse (unknown, draft, paid, void).
        """
        with self._lock:
            invoice = self._account.invoices.get(invoice_id)
            if invoice is None or invoice.deleted:
                raise EmulatorError(f"no such invoice: {invoice_id!r}")
            ctx = self._control_context()
            try:
                _, body = pay_out_of_band(ctx, invoice)
            except StripeError as error:
                raise EmulatorError(error.message) from None
            self._flush(ctx, request_id=None, key=None)
            return body

    def create_webhook_endpoint(
        self, url: str, enabled_events: tuple[str, ...] = ("*",)
    ) -> tuple[str, str]:
        """Register an endpoint directly; return ``(id, whsec_ secret)``."""
        with self._lock:
            endpoint = WebhookEndpoint(
                id=self._ids.new("webhook_endpoint"),
                created=unix(self.clock),
                url=url,
                secret="whsec_" + self._ids.token(32),
                enabled_events=list(enabled_events),
            )
            self._account.endpoints[endpoint.id] = endpoint
            return endpoint.id, endpoint.secret

    def endpoint_secret(self, endpoint_id: str) -> str:
        """The signing secret of an endpoint (in-process tests and the CLI only)."""
        with self._lock:
            endpoint = self._account.endpoints.get(endpoint_id)
            if endpoint is None or endpoint.deleted:
                raise EmulatorError(f"no such webhook endpoint: {endpoint_id!r}")
            return endpoint.secret

    def sign(self, payload: bytes, endpoint_id: str, *, at: int | None = None) -> str:
        """The ``Stripe-Signature`` header for ``payload`` from an endpoint, at time ``at``."""
        when = unix(self.clock) if at is None else at
        return signature_header(payload, [self.endpoint_secret(endpoint_id)], when)

    def events(self) -> list[dict[str, Any]]:
        """The retained events, oldest first."""
        with self._lock:
            kept = retained(self._account, unix(self.clock), self.config.event_retention)
            return [event_json(e) for e in kept]

    @property
    def deliveries(self) -> list[DeliveryAttempt]:
        """Every delivery attempt so far, oldest first."""
        with self._lock:
            return list(self._deliveries)

    def pending_deliveries(self) -> int:
        """How many (event, endpoint) deliveries wait."""
        with self._lock:
            return sum(len(e.pending) for e in self._account.events.values())

    def deliver_webhooks(self, *, at: int | None = None) -> list[DeliveryAttempt]:
        """Post every pending delivery once, signed at ``at`` (default: the clock's now)."""
        with self._lock:
            now = unix(self.clock)
            work = []
            for event in retained(self._account, now, self.config.event_retention):
                for endpoint_id in list(event.pending):
                    endpoint = self._account.endpoints.get(endpoint_id)
                    if endpoint is None or endpoint.deleted:
                        event.pending.remove(endpoint_id)
                        continue
                    body = encode_event(event_json(event))
                    work.append((event, endpoint, body))
        attempts = []
        for event, endpoint, body in work:  # outside the lock: the receiver may call back
            stamp = now if at is None else at
            status, error = self._sender.post(
                endpoint.url, body, delivery_headers(body, endpoint.secret, stamp)
            )
            attempt = DeliveryAttempt(
                event.id, event.type, endpoint.id, endpoint.url, stamp, status, error
            )
            attempts.append(attempt)
            with self._lock:
                if attempt.ok:
                    if endpoint.id in event.pending:
                        event.pending.remove(endpoint.id)
                    if endpoint.id in event.failed:
                        event.failed.remove(endpoint.id)
                elif endpoint.id not in event.failed:
                    event.failed.append(endpoint.id)
                self._deliveries.append(attempt)
        return attempts

    # ----------------------------------------------------------------- request handling

    def _index(self, customer_id: str) -> None:
        customer = self._account.customers[customer_id]
        visible_at = self.clock.now().timestamp() + self._search_delay
        self._account.search_index.append((visible_at, customer_id, index_entry(customer)))

    def _flush(self, ctx: Context, *, request_id: str | None, key: str | None) -> None:
        now = unix(self.clock)
        for pending in ctx.events:
            self._record(pending, now, request_id, key)

    def _record(
        self, pending: PendingEvent, now: int, request_id: str | None, key: str | None
    ) -> None:
        record_event(
            self._account,
            self._ids.new("event"),
            pending,
            created=now,
            api_version=self.config.api_version,
            request_id=request_id,
            idempotency_key=key,
        )

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        """Answer one request; raise :class:`ConnectionDropped` only for an injected cut."""
        if request.path.startswith("/_emulator"):
            try:
                return handle_control(self, request)
            except Exception:
                return self._unhandled(request, self._ids.new("request"))
        request_id = self._ids.new("request")
        method = request.method.upper()
        record: dict[str, Any] = {
            "at": self.clock.now(),
            "method": method,
            "path": request.path,
            "endpoint": f"{method} {request.path[:200]}",
            "status": None,
            "request_id": request_id,
            "idempotency_key": request.header("idempotency-key") if method == "POST" else None,
        }
        try:
            response = self._dispatch(request, request_id, record)
        except ConnectionDropped:
            record["dropped"] = True
            self._log.add(**record)
            raise
        except Exception:
            response = self._unhandled(request, request_id)
        record["status"] = response.status
        self._log.add(**record)
        return response

    def _unhandled(self, request: EmulatorRequest, request_id: str) -> EmulatorResponse:
        _logger.exception(
            "the Stripe emulator failed on %s %s (Request-Id %s); answered 500",
            request.method.upper(),
            request.path[:200],
            request_id,
        )
        body = error_body(
            type_="api_error",
            message="An unexpected error occurred in the emulator.",
            request_id=request_id,
        )
        return json_answer(500, body, request_id)

    def _authenticate(self, request: EmulatorRequest) -> None:
        header = (request.header("authorization") or "").strip()
        key = ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            key = value.strip()
        elif scheme.lower() == "basic":
            try:
                key = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                key = ""
        if not key:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
                replayable=False,
            )
        if key not in self.config.secret_keys:
            raise StripeError(401, f"Invalid API Key provided: {_masked(key)}", replayable=False)

    def _params(self, request: EmulatorRequest, method: str) -> Params:
        try:
            text = request.query_string
            if method == "POST" and request.body:
                body = request.body.decode("utf-8")
                text = f"{text}&{body}" if text else body
        except UnicodeDecodeError:
            raise StripeError(400, "Invalid request body: not UTF-8", replayable=False) from None
        return Params(parse_form(parse_pairs(text)))

    def _dispatch(
        self, request: EmulatorRequest, request_id: str, record: dict[str, Any]
    ) -> EmulatorResponse:
        method = request.method.upper()
        try:
            self._authenticate(request)
            route = match_route(method, request.path)
            if route is None:
                raise StripeError(
                    404,
                    f"Unrecognized request URL ({method}: {request.path[:200]}). Please see "
                    "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                    replayable=False,
                )
            record["endpoint"] = route.endpoint
            params = self._params(request, method)
            for path in params.expand():
                if path not in route.expandable:
                    raise StripeError(
                        400,
                        f"This property cannot be expanded ({path[:100]}).",
                        param="expand",
                        replayable=False,
                    )
            decision = self._limiter.acquire(method, route.endpoint, search=route.search)
            if not decision.allowed:
                record["limited"] = decision.reason
                raise StripeError(
                    429,
                    "Request rate limit exceeded. Learn more about rate limits here "
                    "https://stripe.com/docs/rate-limits.",
                    code="rate_limit",
                    replayable=False,
                    headers=(("Stripe-Rate-Limited-Reason", decision.reason or "global-rate"),),
                )
        except StripeError as error:
            return error_answer(error, request_id)
        return self._admitted(request, route, params, request_id, record)

    def _admitted(
        self,
        request: EmulatorRequest,
        route: Route,
        params: Params,
        request_id: str,
        record: dict[str, Any],
    ) -> EmulatorResponse:
        method = request.method.upper()
        key = record["idempotency_key"]
        fault = self._faults.pick(method, request.path)
        if fault is not None:
            record["fault"] = fault.kind.value
            early = _fault_error(fault)
            if fault.kind is FaultKind.DROP_BEFORE:
                raise ConnectionDropped(applied=False)
            if early is not None and not (fault.kind is FaultKind.SERVER_ERROR and fault.stored):
                return error_answer(early, request_id)
        echo: tuple[tuple[str, str], ...] = (("Idempotency-Key", key),) if key else ()
        with self._lock:
            digest = request_digest(method, request.path, params.data)
            now = self.clock.now().timestamp()
            if key is not None:
                if len(key) > MAX_KEY_LENGTH or not key.strip():
                    error = StripeError(
                        400,
                        f"Idempotency keys are 1 to {MAX_KEY_LENGTH} characters long.",
                        replayable=False,
                    )
                    return error_answer(error, request_id)
                stored = self._idempotency.get(key, now)
                if stored is not None:
                    if stored.digest != digest:
                        error = StripeError(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other than "
                            f"'{key[:255]}' if you meant to execute a different request.",
                            type_="idempotency_error",
                            replayable=False,
                        )
                        return error_answer(
                            error,
                            request_id,
                        )
                    record["replayed"] = True
                    replay = EmulatorResponse(
                        status=stored.status,
                        headers=(
                            ("Content-Type", JSON_TYPE),
                            ("Request-Id", request_id),
                            *echo,
                            ("Idempotent-Replayed", "true"),
                        ),
                        body=stored.body,
                    )
                    return self._finish(replay, fault)
            if fault is not None and fault.kind is FaultKind.SERVER_ERROR and not fault.applied:
                failure = _fault_error(fault)
                assert failure is not None
                response = error_answer(failure, request_id)
                if key is not None:
                    self._idempotency.put(
                        key, StoredAnswer(digest, response.status, response.body, now)
                    )
                return response
            ctx = Context(
                account=self._account,
                config=self.config,
                clock=self.clock,
                ids=self._ids,
                params=params,
                request_id=request_id,
                idempotency_key=key,
                hosted_base=self.hosted_base,
                index=self._index,
            )
            keep = True
            try:
                status, body = route.handler(ctx, method, route.parts)
                body = self._expand(body, params.expand())
                response = json_answer(status, body, request_id, echo)
                self._flush(ctx, request_id=request_id, key=key)
            except StripeError as error:
                keep = error.replayable
                response = json_answer(error.status, error.body(request_id), request_id, echo)
            if fault is not None and fault.kind is FaultKind.SERVER_ERROR:  # applied, then 500
                failure = _fault_error(fault)
                assert failure is not None
                response = error_answer(failure, request_id)
                keep = fault.stored
            if key is not None and keep and method == "POST":
                self._idempotency.put(
                    key, StoredAnswer(digest, response.status, response.body, now)
                )
        if method != "GET" and response.status < 400:
            hold = self._holds.pick(method, request.path)
            if hold is not None:  # outside the lock: other calls go on meanwhile
                record["held"] = True
                hold.keep(
                    HeldCall(
                        method, request.path, response.status, key, request.body, response.body
                    )
                )
        return self._finish(response, fault)

    def _expand(self, body: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        if not paths:
            return body

        def with_customer(obj: dict[str, Any]) -> dict[str, Any]:
            customer = self._account.customers.get(str(obj.get("customer")))
            if customer is None:
                return obj
            return {**obj, "customer": customer_json(customer)}

        if "customer" in paths and "customer" in body:
            return with_customer(body)
        if "data.customer" in paths and isinstance(body.get("data"), list):
            return {**body, "data": [with_customer(o) for o in body["data"]]}
        return body

    def _finish(self, response: EmulatorResponse, fault: FaultRule | None) -> EmulatorResponse:
        if fault is None:
            return response
        if fault.kind is FaultKind.DROP_AFTER:
            raise ConnectionDropped(applied=True)
        if fault.kind is FaultKind.SLOW:
            return attrs.evolve(response, delay=fault.delay, real_delay=fault.real_delay)
        return response

    # ----------------------------------------------------------------- in-process client

    def client(self, base_url: str = "https://stripe-emulator.invalid") -> httpx.Client:
        """An ``httpx.Client`` served in-process, authorised with the account's key."""
        return httpx.Client(
            transport=StripeTransport(self),
            base_url=base_url,
            headers={"Authorization": f"Bearer {self.config.secret_key}"},
        )


def _fault_error(fault: FaultRule) -> StripeError | None:
    retry = (
        ()
        if fault.should_retry is None
        else (("Stripe-Should-Retry", "true" if fault.should_retry else "false"),)
    )
    if fault.kind is FaultKind.RATE_LIMIT:
        return StripeError(
            429,
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            code="rate_limit",
            replayable=False,
            headers=(("Stripe-Rate-Limited-Reason", "global-rate"), *retry),
        )
    if fault.kind is FaultKind.LOCK_TIMEOUT:
        return StripeError(
            429,
            "This object cannot be accessed right now because another API request or Stripe "
            "process is currently accessing it. If you see this error intermittently, retry the "
            "request.",
            code="lock_timeout",
            replayable=False,
            headers=(("Stripe-Should-Retry", "true"),),
        )
    if fault.kind is FaultKind.CONFLICT:
        return StripeError(
            409,
            "There is currently another in-progress request using this Idempotent Key (that "
            "probably means you submitted twice, and the other request is still going through).",
            code="idempotency_key_in_use",
            replayable=False,
            headers=retry,
        )
    if fault.kind is FaultKind.SERVER_ERROR:
        return StripeError(
            500,
            "An unknown error occurred (injected by the emulator).",
            type_="api_error",
            replayable=fault.stored,
            headers=retry,
        )
    return None
