"""The emulator engine: routing, authentication, limits, faults, idempotency, and its controls.

One :class:`XeroEmulator` serves every URL under one base: ``POST /connect/token``,
``GET /connections``, ``/api.xro/2.0/...`` and the control surface ``/_emulator/...``.

Order of checks for an API call: bearer token (401) → ``xero-tenant-id`` (403; absent is fine)
→ route (404/405) → scope (401 ``AuthorizationUnsuccessful``) → rate limits (429) → injected
fault → ``Accept`` → ``Idempotency-Key`` → handler. Without ``Accept: application/json`` the
emulator answers **406** (plain text) instead of Xero's XML: the emulator speaks JSON only, and a
client that forgets the header must fail loudly rather than parse XML by accident.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
import httpx

from ams_billing.emulators.common.clock import EmulatorClock
from ams_billing.emulators.common.messages import (
    ConnectionDropped,
    EmulatorError,
    EmulatorRequest,
    EmulatorResponse,
)

from . import wire
from .books import Books, BooksSnapshot
from .calllog import CallLog, CallRecord, CallSummary
from .config import EmulatorConfig
from .contacts import contact_json, handle_contacts
from .context import (
    ApiError,
    RequestContext,
    json_response,
    text_response,
)
from .control import handle_control
from .faults import FaultKind, FaultRule, FaultRuleSet
from .holds import HeldCall, HoldRegistry, ResponseHold
from .idempotency import ReplayCache, request_digest
from .identity import TokenStore, connections_body, required_scopes, token_endpoint
from .ids import IdFactory
from .invoices import handle_invoices, invoice_json
from .limits import RateLimiter
from .payments import apply_payment, handle_payments, payment_json
from .settings_api import handle_settings
from .transport import EmulatorTransport
from .webhooks import (
    DeliveryAttempt,
    IntentToReceiveReport,
    WebhookDispatcher,
    WebhookTarget,
    sign,
)

__all__ = ["API_PREFIX", "XeroEmulator", "unhandled"]

API_PREFIX = "/api.xro/2.0"
_logger = logging.getLogger(__name__)
Handler = Callable[[RequestContext, str, list[str]], EmulatorResponse]

# resource -> (canonical name, scope group, handler, allowed methods by path length)
_ROUTES: dict[str, tuple[str, str, Handler, dict[int, frozenset[str]]]] = {
    "contacts": (
        "Contacts",
        "contacts",
        handle_contacts,
        {1: frozenset({"GET", "PUT", "POST"}), 2: frozenset({"GET", "POST"})},
    ),
    "invoices": (
        "Invoices",
        "invoices",
        handle_invoices,
        {1: frozenset({"GET", "PUT", "POST"}), 2: frozenset({"GET", "POST"})},
    ),
    "payments": (
        "Payments",
        "payments",
        handle_payments,
        {1: frozenset({"GET", "PUT", "POST"}), 2: frozenset({"GET", "POST"})},
    ),
    "organisation": ("Organisation", "settings", handle_settings, {1: frozenset({"GET"})}),
    "accounts": (
        "Accounts",
        "settings",
        handle_settings,
        {1: frozenset({"GET"}), 2: frozenset({"GET"})},
    ),
    "currencies": ("Currencies", "settings", handle_settings, {1: frozenset({"GET"})}),
    "taxrates": ("TaxRates", "settings", handle_settings, {1: frozenset({"GET"})}),
}
_SUB_ROUTES = {
    ("invoices", "onlineinvoice"): ("OnlineInvoice", frozenset({"GET"})),
    ("invoices", "email"): ("Email", frozenset({"POST"})),
    ("organisation", "actions"): ("Actions", frozenset({"GET"})),
}
_WRITE_METHODS = frozenset({"PUT", "POST"})


@attrs.frozen
class _Route:
    resource: str
    endpoint: str
    scope_group: str
    handler: Handler
    parts: list[str]


class XeroEmulator:
    """A stateful, thread-safe stand-in for one Xero custom connection and its organisation."""

    def __init__(
        self, config: EmulatorConfig | None = None, *, clock: EmulatorClock | None = None
    ) -> None:
        self.config = config or EmulatorConfig()
        self.clock = clock or EmulatorClock.virtual()
        self._lock = threading.RLock()
        self._ids = IdFactory(self.config.seed)
        self._tokens = TokenStore(IdFactory(self.config.seed ^ 0x70C))
        self._limiter = RateLimiter(self.config.limits, self.clock)
        self._idempotency = ReplayCache(self.config.idempotency_retention)
        self._faults = FaultRuleSet(self.config.seed ^ 0xFA7)
        self._holds = HoldRegistry()
        self._webhooks = WebhookDispatcher(self.config, self.clock)
        self._log = CallLog()
        self._connection_id = self._ids.uuid()
        self._connected_at = self.clock.now()
        self._demo = self.config.is_demo_company
        self._books = Books.create(self.config, self._ids, self.clock.now())

    def __repr__(self) -> str:
        return f"<XeroEmulator tenant={self.config.tenant_id} clock={self.clock!r}>"

    # ----------------------------------------------------------------- transports

    def transport(self) -> EmulatorTransport:
        """An ``httpx.BaseTransport`` serving this emulator in-process."""
        return EmulatorTransport(self)

    def client(self, base_url: str = "https://emulator.invalid") -> httpx.Client:
        """An ``httpx.Client`` wired to :meth:`transport` (close it when done)."""
        return httpx.Client(transport=self.transport(), base_url=base_url)

    # ----------------------------------------------------------------- controls

    @property
    def is_demo_company(self) -> bool:
        """Whether the organisation is a Demo Company (no invoice emails)."""
        return self._demo

    def set_demo_company(self, enabled: bool = True) -> None:
        """Make the organisation a Demo Company (or not)."""
        self._demo = enabled

    @property
    def calls(self) -> list[CallRecord]:
        """The call log, oldest first (control-surface calls are not logged)."""
        return self._log.records

    def call_summary(self) -> CallSummary:
        """Counts over the call log."""
        return self._log.summary()

    def in_flight(self) -> int:
        """How many API calls of the tenant are being handled right now."""
        return self._limiter.in_flight(self.config.tenant_id)

    @property
    def webhooks(self) -> WebhookDispatcher:
        """The webhook queue (pending count, delivery history, ``disabled`` flag)."""
        return self._webhooks

    def add_fault(self, rule: FaultRule) -> None:
        """Inject a fault into matching calls."""
        self._faults.add(rule)

    @property
    def fault_rules(self) -> list[FaultRule]:
        """The active fault rules, in the order they were added."""
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
        """Hold the responses of the next ``count`` matching writes after applying them.

        ``path`` is a regular expression searched in the request path. The change is in the
        books while the response waits (see :mod:`.holds`); ``release()`` the returned hold.
        """
        return self._holds.add(ResponseHold(method, path, count, timeout))

    def release_holds(self) -> None:
        """Release every armed hold (what they hold is answered; nothing more is held)."""
        self._holds.clear()

    def issue_token(self, scopes: tuple[str, ...] | None = None) -> str:
        """Mint an access token directly (tests that do not exercise ``/connect/token``)."""
        granted = frozenset(scopes if scopes is not None else self.config.scopes)
        return self._tokens.issue(granted, self.clock.now(), self.config.token_lifetime).value

    def sign_webhook(self, body: bytes) -> str:
        """The ``x-xero-signature`` Xero would send for ``body``."""
        return sign(self.config.webhook_key, body)

    def set_webhook_target(
        self, target: WebhookTarget | None, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        """Deliver webhooks to a URL (optionally via ``transport``) or a callable."""
        self._webhooks.set_target(target, transport=transport)

    def deliver_webhooks(self, *, force: bool = False) -> list[DeliveryAttempt]:
        """Send queued (and due retried) webhook payloads now."""
        return self._webhooks.deliver(force=force)

    def intent_to_receive(
        self, url: str | None = None, *, transport: httpx.BaseTransport | None = None
    ) -> IntentToReceiveReport:
        """Run Xero's Intent-to-Receive check against ``url`` (default: the current target)."""
        return self._webhooks.intent_to_receive(url, transport=transport)

    def reset(self) -> None:
        """Empty the books and forget calls, limits, idempotency keys, faults and webhooks.

        Issued tokens stay valid; the clock is not touched.
        """
        with self._lock:
            self._books = Books.create(self.config, self._ids, self.clock.now())
            self._limiter.reset()
            self._idempotency.clear()
            self._faults.clear()
            self._holds.clear()
            self._webhooks.reset()
            self._log.clear()
            self._demo = self.config.is_demo_company

    def _context(self, request: EmulatorRequest, correlation_id: str = "") -> RequestContext:
        return RequestContext(
            books=self._books,
            config=self.config,
            clock=self.clock,
            ids=self._ids,
            request=request,
            correlation_id=correlation_id or self._ids.uuid(),
            is_demo_company=self._demo,
            now=self.clock.now(),
        )

    def books(self) -> BooksSnapshot:
        """Snapshot every contact, invoice and payment (for tests to compare)."""
        with self._lock:
            ctx = self._context(EmulatorRequest("GET", "/", "unitdp=4"), "snapshot")
            contacts = sorted(self._books.contacts.values(), key=lambda c: c.contact_id)
            invoices = sorted(self._books.invoices.values(), key=lambda i: i.invoice_id)
            payments = sorted(self._books.payments.values(), key=lambda p: p.payment_id)
            return BooksSnapshot(
                tuple(contact_json(c) for c in contacts),
                tuple(invoice_json(ctx, i) for i in invoices),
                tuple(payment_json(ctx, p) for p in payments),
            )

    def record_payment(
        self,
        invoice_id: str,
        amount: Decimal | str | int,
        *,
        account_code: str | None = None,
        on: date | None = None,
        reference: str | None = None,
    ) -> str:
        """Record a payment as if it were made in Xero; return its PaymentID.

        Queues the INVOICE UPDATE webhook. Raises :class:`EmulatorError` when Xero would refuse
        the payment (not AUTHORISED, over the amount due, unknown invoice...).
        """
        with self._lock:
            ctx = self._context(EmulatorRequest("POST", "/_emulator/payments"))
            books = self._books
            if account_code is None:
                account = next((a for a in books.accounts.values() if a.type == "BANK"), None)
            else:
                account = books.account_by_code(account_code)
            invoice = books.invoices.get(invoice_id.lower()) or books.invoice_by_number(invoice_id)
            payment, errors = apply_payment(
                ctx,
                invoice,
                account,
                amount,
                when=on.isoformat() if on else None,
                reference=reference,
            )
            if payment is None:
                raise EmulatorError("; ".join(errors))
            self._flush_events(ctx)
            return payment.payment_id

    def _flush_events(self, ctx: RequestContext) -> None:
        for event in ctx.events:
            self._webhooks.enqueue(event.category, event.event_type, event.resource_id, ctx.now)

    # ----------------------------------------------------------------- request handling

    def serves(self, method: str, path: str) -> bool:
        """Whether ``method path`` reaches an API handler (whatever the token, books or body).

        ``path`` is a full path (``/api.xro/2.0/Invoices/{id}``); for tests that walk a spec.
        """
        prefix = API_PREFIX.lower() + "/"
        if not path.lower().startswith(prefix):
            return False
        try:
            self._route(path[len(prefix) :].rstrip("/"), method.upper(), "")
        except ApiError:
            return False
        return True

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        """Answer one request; raise :class:`ConnectionDropped` for an injected cut.

        Every request gets an answer: an unexpected exception is logged (with its traceback)
        and answered with a 500 in Xero's ``Error`` shape, never a cut connection.
        """
        path = request.path
        if path.startswith("/_emulator"):
            try:
                return handle_control(self, request)
            except Exception:
                return unhandled(request, self._ids.uuid())
        correlation_id = self._ids.uuid()
        record: dict[str, Any] = {
            "at": self.clock.now(),
            "method": request.method.upper(),
            "path": path,
            "endpoint": f"{request.method.upper()} {path}",
            "status": None,
            "correlation_id": correlation_id,
            "idempotency_key": request.header("idempotency-key"),
        }
        try:
            response = self._dispatch(request, correlation_id, record)
        except ConnectionDropped:
            record["dropped"] = True
            self._log.add(**record)
            raise
        except Exception:
            response = unhandled(request, correlation_id)
        record["status"] = response.status
        self._log.add(**record)
        return response

    def _dispatch(
        self, request: EmulatorRequest, correlation_id: str, record: dict[str, Any]
    ) -> EmulatorResponse:
        path = request.path.rstrip("/") or "/"
        lowered = path.lower()
        method = request.method.upper()
        if lowered == "/connect/token":
            record["endpoint"] = "POST /connect/token"
            if method != "POST":
                return _not_allowed(method, correlation_id)
            return token_endpoint(request, self.config, self._tokens, self.clock.now())
        if lowered == "/connections":
            record["endpoint"] = "GET /connections"
            return self._connections(request, correlation_id, record)
        if lowered.startswith(API_PREFIX.lower() + "/"):
            return self._api(request, path[len(API_PREFIX) + 1 :], correlation_id, record)
        return text_response(404, "The resource you're looking for cannot be found", correlation_id)

    def _authenticate(self, request: EmulatorRequest, correlation_id: str) -> frozenset[str]:
        auth = request.header("authorization") or ""
        value = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        token = self._tokens.lookup(value) if value else None
        if token is None:
            raise _problem(401, "Unauthorized", "AuthenticationUnsuccessful", correlation_id)
        now = self.clock.now()
        if now >= token.expires_at:
            stamp = token.expires_at.strftime("%m/%d/%Y %H:%M:%S")
            raise _problem(
                401, "Unauthorized", f"TokenExpired: token expired at {stamp}", correlation_id
            )
        return token.scopes

    def _connections(
        self, request: EmulatorRequest, correlation_id: str, record: dict[str, Any]
    ) -> EmulatorResponse:
        try:
            if request.method.upper() != "GET":
                return _not_allowed(request.method, correlation_id)
            self._authenticate(request, correlation_id)
        except ApiError as exc:
            return exc.response
        decision = self._limiter.acquire(None)
        if not decision.allowed:
            record["limit_problem"] = decision.problem
            return _too_many(
                decision.problem, decision.retry_after, decision.headers, correlation_id
            )
        try:
            body = connections_body(self.config, self._connection_id, self._connected_at)
            wanted = request.query.get("authEventId")
            if wanted:
                body = [c for c in body if c["authEventId"] == wanted]
            response = json_response(200, body, correlation_id)
            return attrs.evolve(response, headers=response.headers + decision.headers)
        finally:
            self._limiter.release(None)

    def _route(self, rest: str, method: str, correlation_id: str) -> _Route:
        parts = [p for p in rest.split("/") if p]
        if not parts or parts[0].lower() not in _ROUTES:
            raise ApiError(
                text_response(
                    404, "The resource you're looking for cannot be found", correlation_id
                )
            )
        resource = parts[0].lower()
        name, group, handler, allowed = _ROUTES[resource]
        endpoint = name
        if len(parts) == 2 and (resource, parts[1].lower()) in _SUB_ROUTES:
            sub, methods = _SUB_ROUTES[(resource, parts[1].lower())]
            endpoint = f"{name}/{sub}"
        elif len(parts) == 3 and (resource, parts[2].lower()) in _SUB_ROUTES:
            sub, methods = _SUB_ROUTES[(resource, parts[2].lower())]
            endpoint = f"{name}/{{id}}/{sub}"
        elif len(parts) in allowed:
            methods = allowed[len(parts)]
            endpoint = name if len(parts) == 1 else f"{name}/{{id}}"
        else:
            raise ApiError(
                text_response(
                    404, "The resource you're looking for cannot be found", correlation_id
                )
            )
        if method not in methods:
            raise ApiError(_not_allowed(method, correlation_id))
        return _Route(resource, f"{method} /{endpoint}", group, handler, parts)

    def _api(
        self, request: EmulatorRequest, rest: str, correlation_id: str, record: dict[str, Any]
    ) -> EmulatorResponse:
        method = request.method.upper()
        try:
            scopes = self._authenticate(request, correlation_id)
            tenant = (request.header("xero-tenant-id") or "").strip()
            if tenant and tenant.lower() != self.config.tenant_id.lower():
                raise _problem(403, "Forbidden", "AuthenticationUnsuccessful", correlation_id)
            route = self._route(rest, method, correlation_id)
            record["endpoint"] = route.endpoint
            record["tenant_id"] = self.config.tenant_id
            if not scopes & set(required_scopes(route.scope_group, method)):
                raise _problem(401, "Unauthorized", "AuthorizationUnsuccessful", correlation_id)
        except ApiError as exc:
            return exc.response
        tenant_id = self.config.tenant_id
        decision = self._limiter.acquire(tenant_id)
        if not decision.allowed:
            record["limit_problem"] = decision.problem
            return _too_many(
                decision.problem, decision.retry_after, decision.headers, correlation_id
            )
        try:
            response = self._admitted(request, route, correlation_id, record)
        finally:
            self._limiter.release(tenant_id)
        # A replay reports the counts as they are now, not when the key was first used.
        limit_headers = (
            self._limiter.current_headers(tenant_id) if record.get("replayed") else decision.headers
        )
        present = {name.lower() for name, _ in response.headers}
        extra = tuple((k, v) for k, v in limit_headers if k.lower() not in present)
        return attrs.evolve(response, headers=response.headers + extra)

    def _admitted(
        self, request: EmulatorRequest, route: _Route, correlation_id: str, record: dict[str, Any]
    ) -> EmulatorResponse:
        method = request.method.upper()
        fault = self._faults.pick(method, request.path)
        if fault is not None:
            record["fault"] = fault.kind.value
            if fault.hold is not None:
                fault.hold.wait(timeout=30)
            early = _fault_response(fault, correlation_id)
            if early is not None:
                if fault.kind in (FaultKind.RATE_LIMIT_DAY, FaultKind.RATE_LIMIT_MINUTE):
                    record["limit_problem"] = early.header("X-Rate-Limit-Problem")
                return early
        accept = (request.header("accept") or "").lower()
        if "application/json" not in accept:
            return text_response(
                406,
                "The emulator only answers JSON: send 'Accept: application/json'",
                correlation_id,
            )
        key = request.header("idempotency-key")
        with self._lock:
            if method in _WRITE_METHODS and key is not None:
                limit = self.config.idempotency_key_max_length
                if len(key) > limit or not key.strip():
                    message = f"Idempotency-Key must be between 1 and {limit} characters"
                    return _validation_400(message, correlation_id)
                now = self.clock.now()
                stored = self._idempotency.get(self.config.tenant_id, key, now)
                print_ = request_digest(request)
                if stored is not None:
                    if stored.request_digest != print_:
                        message = f"Idempotency Key {key} is used with a different request"
                        return _validation_400(message, correlation_id)
                    record["replayed"] = True
                    return self._finish(stored.response, fault)
            ctx = self._context(request, correlation_id)
            try:
                response = route.handler(ctx, method, route.parts)
            except ApiError as exc:
                response = exc.response
            if response.status < 400:
                self._flush_events(ctx)
            if method in _WRITE_METHODS and key is not None:
                self._idempotency.put(
                    self.config.tenant_id, key, request_digest(request), response, self.clock.now()
                )
        if method in _WRITE_METHODS and response.status < 400:
            hold = self._holds.pick(method, request.path)
            if hold is not None:  # outside the lock: other calls go on meanwhile
                record["held"] = True
                hold.keep(
                    HeldCall(
                        method, request.path, response.status, key, request.body, response.body
                    )
                )
        return self._finish(response, fault)

    def _finish(self, response: EmulatorResponse, fault: FaultRule | None) -> EmulatorResponse:
        if fault is None:
            return response
        if fault.kind is FaultKind.DROP_AFTER:
            raise ConnectionDropped(applied=True)
        if fault.kind is FaultKind.SLOW:
            return attrs.evolve(response, delay=fault.delay, real_delay=fault.real_delay)
        return response


def unhandled(request: EmulatorRequest, correlation_id: str) -> EmulatorResponse:
    """Log the exception being handled and answer it with a 500 in Xero's ``Error`` shape.

    Only the method and path are logged (no headers, query or body: they can carry tokens).
    """
    _logger.exception(
        "the Xero emulator failed on %s %s (Xero-Correlation-Id %s); answered 500",
        request.method.upper(),
        request.path,
        correlation_id,
    )
    return json_response(500, wire.unhandled_error(), correlation_id)


def _problem(status: int, title: str, detail: str, correlation_id: str) -> ApiError:
    body = wire.problem(status, title, detail, correlation_id)
    return ApiError(json_response(status, body, correlation_id))


def _validation_400(message: str, correlation_id: str) -> EmulatorResponse:
    body = wire.validation_exception([{"ValidationErrors": [{"Message": message}]}])
    return json_response(400, body, correlation_id)


def _not_allowed(method: str, correlation_id: str) -> EmulatorResponse:
    return text_response(
        405,
        f"The requested resource does not support http method '{method.upper()}'.",
        correlation_id,
    )


def _too_many(
    problem: str | None,
    retry_after: int | None,
    headers: tuple[tuple[str, str], ...],
    correlation_id: str,
) -> EmulatorResponse:
    extra = [("X-Rate-Limit-Problem", problem or "minute")]
    if retry_after is not None:
        extra.append(("Retry-After", str(retry_after)))
    return EmulatorResponse(
        status=429,
        headers=(("Xero-Correlation-Id", correlation_id), *headers, *extra),
        body=b"",
    )


def _fault_response(fault: FaultRule, correlation_id: str) -> EmulatorResponse | None:
    if fault.kind is FaultKind.DROP_BEFORE:
        raise ConnectionDropped(applied=False)
    if fault.kind is FaultKind.RATE_LIMIT_MINUTE:
        return _too_many(
            "minute", fault.retry_after or 60, (("X-MinLimit-Remaining", "0"),), correlation_id
        )
    if fault.kind is FaultKind.RATE_LIMIT_DAY:
        return _too_many(
            "day", fault.retry_after or 3600, (("X-DayLimit-Remaining", "0"),), correlation_id
        )
    if fault.kind is FaultKind.SERVER_ERROR:
        return text_response(500, wire.UNHANDLED, correlation_id)
    if fault.kind is FaultKind.ORGANISATION_OFFLINE:
        return text_response(503, "The Organisation is offline", correlation_id)
    return None
