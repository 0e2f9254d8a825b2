"""The Stripe contract driver: the world outside the AMS, played by the Stripe emulator.

- **Payments** are made in the emulator as a member paying the hosted invoice would (out of
  band: ``invoice.paid``). Stripe pays an invoice in full only, so a partial amount is refused.
- **Deliveries** are the emulator's real ones: each pending event is posted to the registered
  endpoint, signed with its ``whsec_`` secret (``Stripe-Signature``), and captured here exactly
  as sent; :meth:`StripeTestDriver.take_webhook_deliveries` signs them at a chosen time.
- **Faults** are the emulator's rules (5xx, 429, cuts after the change) on the request that
  carries each operation, and scripted answers for refusals it has no rule for (401).
- **Emails** are counted from the emulator's call log: a ``/send`` it answered 200, or applied
  before cutting the connection, and did not replay.
- **Drafts** are made through the emulator's API, as a bookkeeper in the Dashboard would.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
import httpx

from ams_billing.core.errors import (
    AuthenticationError,
    BillingError,
    ProviderUnavailableError,
    RateLimitedError,
)
from ams_billing.core.models import Invoice, InvoiceRequest
from ams_billing.emulators.stripe import FaultKind, FaultRule, StripeEmulator
from ams_billing.providers.stripe import forms
from ams_billing.providers.stripe.mapping import ACCOUNT_KEY, due_timestamp, to_invoice
from ams_billing.providers.stripe.money import minor_unit_price
from ams_billing.providers.stripe.webhooks import signature_header
from ams_billing.testing.harness import SignedDelivery

__all__ = ["OPERATION_ROUTES", "ScriptedTransport", "StripeTestDriver"]

OPERATION_ROUTES: Mapping[str, tuple[str, str]] = {
    "create_contact": ("POST", r"^/v1/customers(/[^/]+)?$"),
    "create_contacts": ("POST", r"^/v1/customers(/[^/]+)?$"),
    "create_invoice": ("POST", r"^/v1/invoices$"),
    "create_invoices": ("POST", r"^/v1/invoices$"),
    "send_invoice": ("POST", r"^/v1/invoices/[^/]+/send$"),
    "get_invoices": ("GET", r"^/v1/invoices/[^/]+$"),
    "get_invoices_changed_since": ("GET", r"^/v1/events$"),
    "get_invoice_url": ("GET", r"^/v1/invoices/[^/]+$"),
    "void_invoice": ("POST", r"^/v1/invoices/[^/]+/void$"),
}
"""The Stripe request that carries each operation (where its faults are injected)."""

_ANY_API = ("", r"^/v1/")
_BOOKKEEPER = "https://bookkeeper.invalid"


@attrs.define
class _Scripted:
    method: str
    path: re.Pattern[str]
    remaining: int
    status: int
    body: bytes


class ScriptedTransport(httpx.BaseTransport):
    """Wraps a transport; answers some requests with scripted failures first."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self._scripted: list[_Scripted] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer from the script when a rule matches, else from the wrapped transport."""
        with self._lock:
            scripted = self._take(request.method, request.url.path)
        if scripted is not None:
            return httpx.Response(
                scripted.status,
                headers={"Content-Type": "application/json", "Request-Id": "req_scripted"},
                content=scripted.body,
                request=request,
            )
        return self.inner.handle_request(request)

    def _take(self, method: str, path: str) -> _Scripted | None:
        for item in self._scripted:
            if (item.method and item.method != method) or not item.path.search(path):
                continue
            item.remaining -= 1
            if item.remaining <= 0:
                self._scripted.remove(item)
            return item
        return None

    def script(self, count: int, status: int, body: Any, *, method: str, path: str) -> None:
        """Answer the next ``count`` matching requests with ``status`` and ``body``."""
        with self._lock:
            self._scripted.append(
                _Scripted(method, re.compile(path), count, status, json.dumps(body).encode())
            )

    def clear(self) -> None:
        """Forget the script."""
        with self._lock:
            self._scripted.clear()

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


class StripeTestDriver:
    """The contract's driver (payments, deliveries, faults, emails, drafts) over the emulator."""

    def __init__(
        self,
        emulator: StripeEmulator,
        transport: ScriptedTransport,
        *,
        endpoint_id: str,
        attempts: int = 4,
    ) -> None:
        self.emulator = emulator
        self.transport = transport
        self.endpoint_id = endpoint_id
        self.attempts = attempts
        self._captured: list[SignedDelivery] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<StripeTestDriver {self.endpoint_id}>"

    def receive(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The emulator's poster: capture the delivery as sent, answer 200."""
        with self._lock:
            self._captured.append(SignedDelivery(body, dict(headers)))
        return 200

    # -- ProviderTestDriver ----------------------------------------------------------------

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        """Pay the invoice in full, out of band (Stripe has no partial out-of-band payment)."""
        self.emulator.pay_invoice(invoice_id)

    def take_webhook_deliveries(self, *, at: datetime | None = None) -> list[SignedDelivery]:
        """Have the emulator post its pending events (signed at ``at``) and return them."""
        self.emulator.deliver_webhooks(at=None if at is None else int(at.timestamp()))
        with self._lock:
            taken, self._captured = self._captured, []
        return taken

    # -- WebhookSigner ---------------------------------------------------------------------

    def _secret(self) -> str:
        return self.emulator.endpoint_secret(self.endpoint_id)

    def sign_webhook(self, body: bytes, *, at: datetime | None = None) -> dict[str, str]:
        """Headers signing ``body`` with the endpoint's secret at ``at`` (default: now)."""
        when = self.emulator.clock.now() if at is None else at
        return {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature_header(body, [self._secret()], int(when.timestamp())),
        }

    def sign_webhook_body(self, body: bytes) -> SignedDelivery:
        """``body`` signed now with the endpoint's secret, headers as Stripe sends them."""
        return SignedDelivery(body, self.sign_webhook(body))

    def sign_foreign_delivery(self, invoice_id: str) -> SignedDelivery:
        """A signed ``invoice.updated`` about ``invoice_id`` for another (connected) account."""
        now = int(self.emulator.clock.now().timestamp())
        event = {
            "id": "evt_foreign0000000000000000",
            "object": "event",
            "account": "acct_1AnotherAccount000",
            "api_version": self.emulator.config.api_version,
            "created": now,
            "data": {"object": {"id": invoice_id, "object": "invoice", "status": "paid"}},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "invoice.updated",
        }
        return self.sign_webhook_body(json.dumps(event, separators=(",", ":")).encode())

    def sign_empty_delivery(self) -> SignedDelivery:
        """Stripe sends no Intent-to-Receive check; a signed ``ping``-like event about nothing."""
        now = int(self.emulator.clock.now().timestamp())
        event = {
            "id": "evt_ping000000000000000000",
            "object": "event",
            "api_version": self.emulator.config.api_version,
            "created": now,
            "data": {"object": {"id": "we_ping", "object": "webhook_endpoint"}},
            "livemode": False,
            "type": "ping",
        }
        return self.sign_webhook_body(json.dumps(event, separators=(",", ":")).encode())

    # -- FaultInjector ---------------------------------------------------------------------

    def fail_next(
        self,
        count: int,
        error: type[BillingError],
        *,
        operations: Iterable[str] | None = None,
        after_apply: bool = False,
    ) -> None:
        """Make the next ``count`` operations fail with ``error`` (see ``FaultInjector``).

        Failures the provider retries (5xx, cuts, 429) are injected once per attempt, so the
        operation fails after its retries, as against a Stripe that stays down.
        """
        routes = [OPERATION_ROUTES[op] for op in operations] if operations else [_ANY_API]
        for method, path in routes:
            if after_apply:
                if not issubclass(error, ProviderUnavailableError):
                    raise ValueError("only a lost answer (ProviderUnavailableError) comes after")
                self._rule(FaultKind.DROP_AFTER, method, path, count * self.attempts)
            elif issubclass(error, ProviderUnavailableError):
                self._rule(FaultKind.SERVER_ERROR, method, path, count * self.attempts)
            elif issubclass(error, RateLimitedError):
                self._rule(FaultKind.RATE_LIMIT, method, path, count * self.attempts)
            elif issubclass(error, AuthenticationError):
                body = {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "Invalid API Key provided: sk_test_****",
                    }
                }
                self.transport.script(count, 401, body, method=method, path=path)
            else:
                raise ValueError(f"the Stripe test driver cannot inject {error.__name__}")

    def _rule(self, kind: FaultKind, method: str, path: str, count: int) -> None:
        self.emulator.add_fault(FaultRule(kind=kind, method=method or None, path=path, count=count))

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        self.emulator.clear_faults()
        self.transport.clear()

    # -- EmailCounter ----------------------------------------------------------------------

    def count_emails_sent(self, invoice_id: str) -> int:
        """How many ``/send`` calls for the invoice the emulator applied (replays left out)."""
        path = f"/v1/invoices/{invoice_id}/send"
        return sum(
            1
            for call in self.emulator.calls
            if call.method == "POST"
            and call.path == path
            and not getattr(call, "replayed", False)
            and (
                call.status == 200
                or (getattr(call, "dropped", False) and call.fault == FaultKind.DROP_AFTER.value)
            )
        )

    # -- DraftMaker ------------------------------------------------------------------------

    def create_draft_invoice(self, request: InvoiceRequest) -> Invoice:
        """Put ``request`` in the emulator as a draft, through its API as a bookkeeper would."""
        with self.emulator.client(_BOOKKEEPER) as client:
            customer = self._call(
                client,
                "/v1/customers",
                {
                    "name": request.contact.name,
                    "email": request.contact.email or "",
                    "metadata": {ACCOUNT_KEY: request.contact.account_reference},
                },
            )
            draft = self._call(
                client,
                "/v1/invoices",
                {
                    "customer": customer["id"],
                    "currency": request.currency.lower(),
                    "collection_method": "send_invoice",
                    "due_date": due_timestamp(request.due_date),
                    "metadata": {ACCOUNT_KEY: request.contact.account_reference},
                },
            )
            for index, line in enumerate(request.line_items):
                self._call(
                    client,
                    "/v1/invoiceitems",
                    {
                        "customer": customer["id"],
                        "invoice": draft["id"],
                        "description": line.description,
                        "quantity": int(line.quantity),
                        "unit_amount_decimal": minor_unit_price(line.unit_amount, request.currency),
                        "metadata": {"ams_line": str(index)},
                    },
                )
            read = client.get(f"/v1/invoices/{draft['id']}")
        return to_invoice(read.json(parse_float=Decimal))

    def _call(self, client: httpx.Client, path: str, params: forms.Params) -> Any:
        response = client.post(
            path,
            content=forms.encode(params).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if response.status_code != 200:
            raise AssertionError(f"the emulator refused the bookkeeper's {path}: {response.text}")
        return response.json(parse_float=Decimal)
