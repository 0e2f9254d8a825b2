"""Test harnesses: the Xero provider against the Xero emulator, in-process or over loopback HTTP.

- :func:`in_process_harness` — the emulator's in-process httpx transport (fast; what the
  entry point ``ams_billing.contract_harnesses`` registers as ``xero``);
- :func:`loopback_harness` — the emulator served on ``127.0.0.1`` and real HTTP in between.

Both run on the emulator's virtual clock: the provider's pacing and retry waits advance it
instead of sleeping, so a test never waits for a rate-limit window or a ``Retry-After``. Both
keep the provider's ledger and the invoice states in a temporary SQLite file (deleted by
``close``), and can restart the provider: a new ``XeroProvider`` over the same emulator
and the same file, the emulator's clock moved past Xero's ``Idempotency-Key`` window; and can
move that clock past the window without a restart (``expire_remote_keys``): the provider, which
reads the same clock, sees the time pass too.

:class:`XeroTestDriver` is the contract's test driver: payments are recorded in the emulator,
webhook deliveries are captured exactly as the emulator signed them, and faults are injected
(emulator fault rules for 5xx, 429 and lost responses; scripted answers from
:class:`TestTransport` for the refusals the emulator has no rule for).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs
import httpx

from ams_billing.core.errors import (
    AuthenticationError,
    BillingError,
    NotFoundError,
    ProviderUnavailableError,
    RateLimitedError,
    ValidationError,
)
from ams_billing.core.service import BillingService
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    EmulatorServer,
    FaultKind,
    FaultRule,
    XeroEmulator,
)
from ams_billing.emulators.xero.driver import (
    EmulatorContractMethods,
    contract_config,
    other_currencies,
)
from ams_billing.providers.xero import wire
from ams_billing.providers.xero.provider import XeroProvider
from ams_billing.providers.xero.settings import XeroSettings
from ams_billing.testing.harness import ContractHarness, SignedDelivery
from ams_billing.testing.scratch import ScratchStores

__all__ = [
    "EMULATOR_BASE_URL",
    "OPERATION_ROUTES",
    "RecordedRequest",
    "TestTransport",
    "XeroTestDriver",
    "emulator_settings",
    "in_process_harness",
    "loopback_harness",
    "settings_environ",
]

EMULATOR_BASE_URL = "https://xero-emulator.invalid"
"""The base URL paired with the in-process transport (never resolved)."""

OPERATION_ROUTES: Mapping[str, tuple[str, str]] = {
    "create_contact": ("POST", r"/Contacts$"),
    "create_invoice": ("PUT", r"/Invoices$"),
    "create_contacts": ("POST", r"/Contacts$"),
    "create_invoices": ("PUT", r"/Invoices$"),
    "send_invoice": ("POST", r"/Invoices/[^/]+/Email$"),
    "get_invoices": ("GET", r"/Invoices$"),
    "get_invoices_changed_since": ("GET", r"/Invoices$"),
    "get_invoice_url": ("GET", r"/Invoices/[^/]+/OnlineInvoice$"),
    "void_invoice": ("POST", r"/Invoices/[^/]+$"),
}
"""The Xero request that carries each operation (where its faults are injected)."""

_ANY_API = ("", r"/api\.xro/2\.0/")


@attrs.frozen
class RecordedRequest:
    """One request as sent (the ``Authorization`` value is redacted)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = attrs.field(repr=False)

    def json(self) -> Any:
        """The body parsed (Decimals exact), or ``None`` when empty."""
        return wire.loads(self.body) if self.body else None


@attrs.define
class _Scripted:
    method: str
    path: re.Pattern[str]
    remaining: int
    status: int
    body: bytes
    content_type: str


class TestTransport(httpx.BaseTransport):
    """Wraps a transport: records every request and can answer some with scripted failures."""

    __test__ = False  # not a pytest test class

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[RecordedRequest] = []
        self._scripted: list[_Scripted] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Record the request, then answer it from the script or the wrapped transport."""
        body = request.read()
        headers = {
            name: ("<redacted>" if name == "authorization" else value)
            for name, value in request.headers.items()
        }
        recorded = RecordedRequest(
            request.method, request.url.path, dict(request.url.params), headers, body
        )
        with self._lock:
            self.requests.append(recorded)
            scripted = self._take(request.method, request.url.path)
        if scripted is not None:
            return httpx.Response(
                scripted.status,
                headers={"Content-Type": scripted.content_type},
                content=scripted.body,
                request=request,
            )
        return self.inner.handle_request(request)

    def _take(self, method: str, path: str) -> _Scripted | None:
        for item in self._scripted:
            if item.method and item.method != method:
                continue
            if not item.path.search(path):
                continue
            item.remaining -= 1
            if item.remaining == 0:
                self._scripted.remove(item)
            return item
        return None

    def script(
        self,
        count: int,
        status: int,
        body: Any,
        *,
        method: str = "",
        path: str = r".",
        content_type: str = "application/json",
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` and ``body``."""
        raw = body if isinstance(body, bytes) else wire.dumps(body)
        with self._lock:
            self._scripted.append(
                _Scripted(method, re.compile(path), count, status, raw, content_type)
            )

    def clear_requests(self) -> None:
        """Forget the recorded requests (the script stays)."""
        with self._lock:
            self.requests.clear()

    def clear(self) -> None:
        """Forget the recorded requests and the script."""
        with self._lock:
            self.requests.clear()
            self._scripted.clear()

    def api_requests(self) -> list[RecordedRequest]:
        """The recorded Accounting API requests (the token requests left out)."""
        with self._lock:
            return [r for r in self.requests if "/api.xro/2.0/" in r.path]

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


class XeroTestDriver(EmulatorContractMethods):
    """The contract's :class:`ProviderTestDriver` and :class:`FaultInjector` over an emulator.

    The optional driver methods (emails counted, deliveries signed, drafts made) come from
    :class:`~ams_billing.emulators.xero.driver.EmulatorContractMethods`.
    """

    def __init__(
        self, emulator: XeroEmulator, transport: TestTransport, *, attempts: int = 4
    ) -> None:
        self.emulator = emulator
        self.transport = transport
        self.attempts = attempts
        self._captured: list[SignedDelivery] = []
        self._lock = threading.Lock()
        emulator.set_webhook_target(self._receive)

    def __repr__(self) -> str:
        return f"<XeroTestDriver {self.emulator!r}>"

    def _receive(self, request: httpx.Request) -> httpx.Response:
        delivery = SignedDelivery(request.read(), dict(request.headers.items()))
        with self._lock:
            self._captured.append(delivery)
        return httpx.Response(200)

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        """Pay ``amount`` towards the invoice in the emulator, as the member would in Xero."""
        self.emulator.record_payment(invoice_id, amount)

    def take_webhook_deliveries(self) -> list[SignedDelivery]:
        """Have the emulator deliver its queued webhooks and return them as signed."""
        self.emulator.deliver_webhooks()
        with self._lock:
            taken, self._captured = self._captured, []
        return taken

    def fail_next(
        self,
        count: int,
        error: type[BillingError],
        *,
        operations: Iterable[str] | None = None,
        after_apply: bool = False,
    ) -> None:
        """Make the next ``count`` operations fail with ``error`` (see ``FaultInjector``).

        Failures the provider retries (5xx, lost responses, 429) are injected once per attempt,
        so the operation fails after its retries, as it would against a Xero that stays down.
        """
        routes = [OPERATION_ROUTES[op] for op in operations] if operations else [_ANY_API]
        for method, path in routes:
            if after_apply:
                if not issubclass(error, ProviderUnavailableError):
                    raise ValueError(
                        "only a lost response (ProviderUnavailableError) comes after apply"
                    )
                self._rule(FaultKind.DROP_AFTER, method, path, count * self.attempts)
            elif issubclass(error, ProviderUnavailableError):
                self._rule(FaultKind.SERVER_ERROR, method, path, count * self.attempts)
            elif issubclass(error, RateLimitedError):
                self._rule(FaultKind.RATE_LIMIT_MINUTE, method, path, count * self.attempts, 1)
            elif issubclass(error, AuthenticationError):
                problem = wire.unstructure(
                    wire.Problem("Forbidden", 403, "AuthenticationUnsuccessful")
                )
                self.transport.script(count, 403, problem, method=method, path=path)
            elif issubclass(error, NotFoundError):
                self.transport.script(
                    count,
                    404,
                    b"The resource you're looking for cannot be found",
                    method=method,
                    path=path,
                    content_type="text/plain",
                )
            elif issubclass(error, ValidationError):
                body = {
                    "ErrorNumber": 10,
                    "Type": "ValidationException",
                    "Message": "A validation exception occurred",
                    "Elements": [{"ValidationErrors": [{"Message": "fault injected"}]}],
                }
                self.transport.script(count, 400, body, method=method, path=path)
            else:
                raise ValueError(f"the Xero test driver cannot inject {error.__name__}")

    def _rule(
        self, kind: FaultKind, method: str, path: str, count: int, retry_after: int | None = None
    ) -> None:
        self.emulator.add_fault(
            FaultRule(
                kind=kind,
                method=method or None,
                path=path,
                count=count,
                retry_after=retry_after,
            )
        )

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        self.emulator.clear_faults()
        self.transport.clear()


def emulator_settings(emulator: XeroEmulator, base_url: str, **overrides: Any) -> XeroSettings:
    """Settings that authenticate against ``emulator`` served at ``base_url``."""
    config = emulator.config
    values: dict[str, Any] = {
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "tenant_id": config.tenant_id,
        "webhook_key": config.webhook_key,
        "account_code": "200",
        "currency_code": config.base_currency,
        "api_url": base_url,
        "identity_url": base_url,
        "timeout": 10.0,
    }
    values.update(overrides)
    return XeroSettings(**values)


def _build(
    emulator: XeroEmulator,
    inner: httpx.BaseTransport,
    base_url: str,
    stores: ScratchStores,
    **overrides: Any,
) -> tuple[XeroProvider, XeroTestDriver]:
    transport = TestTransport(inner)
    settings = emulator_settings(emulator, base_url, **overrides)
    provider = _provider(emulator, settings, transport, stores)
    return provider, XeroTestDriver(emulator, transport, attempts=settings.max_attempts)


def _provider(
    emulator: XeroEmulator, settings: XeroSettings, transport: TestTransport, stores: ScratchStores
) -> XeroProvider:
    return XeroProvider(
        settings,
        transport=transport,
        clock=emulator.clock.elapsed,
        sleep=emulator.clock.sleep,
        idempotency_store=stores.stores.idempotency,
    )


def _harness(
    provider: XeroProvider,
    driver: XeroTestDriver,
    stores: ScratchStores,
    stop: Callable[[], None] = lambda: None,
) -> ContractHarness:
    """The harness over ``provider``, with a restart; ``close`` closes all, then ``stop``."""
    emulator = driver.emulator
    providers = [provider]

    def expire_remote_keys() -> None:
        # Past Xero's memory of every Idempotency-Key: only the provider's ledger is left.
        emulator.clock.advance(emulator.config.idempotency_retention + 1)

    def restart() -> BillingService:
        expire_remote_keys()  # the restart outlasts the key window
        providers.append(_provider(emulator, provider.settings, driver.transport, stores))
        return BillingService(providers[-1], state_store=stores.stores.invoice_state)

    def close() -> None:
        try:
            for each in providers:
                each.close()
        finally:
            stores.close()
            stop()

    return ContractHarness(
        service=BillingService(provider, state_store=stores.stores.invoice_state),
        driver=driver,
        currency=emulator.config.base_currency,
        account_code="200",
        tax_rate=Decimal("0.15"),
        close=close,
        restart=restart,
        other_currencies=other_currencies(emulator),
        expire_remote_keys=expire_remote_keys,
        secrets=(emulator.config.webhook_key, emulator.config.client_secret),
        environ=settings_environ(provider.settings),
    )


def settings_environ(settings: XeroSettings) -> dict[str, str]:
    """The ``XERO_*`` variables from which ``XeroSettings.from_env`` reads ``settings`` again."""
    return {
        "XERO_CLIENT_ID": settings.client_id,
        "XERO_CLIENT_SECRET": settings.client_secret.reveal(),
        "XERO_WEBHOOK_KEY": settings.webhook_key.reveal(),
        "XERO_ACCOUNT_CODE": settings.account_code,
        "XERO_CURRENCY_CODE": settings.currency_code,
        "XERO_AMOUNT_TYPE": settings.amount_type.value,
        "XERO_TENANT_ID": settings.tenant_id or "",
        "XERO_API_URL": settings.api_url,
        "XERO_IDENTITY_URL": settings.identity_url,
    }


def in_process_harness(
    config: EmulatorConfig | None = None, **settings_overrides: Any
) -> ContractHarness:
    """The provider over the emulator's in-process transport, on a virtual clock.

    Without ``config``, the organisation enables NZD (its base), AUD and USD.
    """
    emulator = XeroEmulator(config or contract_config(), clock=EmulatorClock.virtual())
    stores = ScratchStores()
    provider, driver = _build(
        emulator, emulator.transport(), EMULATOR_BASE_URL, stores, **settings_overrides
    )
    return _harness(provider, driver, stores)


def loopback_harness(
    config: EmulatorConfig | None = None, **settings_overrides: Any
) -> ContractHarness:
    """The provider over real HTTP to the emulator served on ``127.0.0.1``.

    Without ``config``, the organisation is the one :func:`in_process_harness` makes.
    """
    emulator = XeroEmulator(config or contract_config(), clock=EmulatorClock.virtual())
    server = EmulatorServer(emulator).start()
    stores = ScratchStores()
    try:
        provider, driver = _build(
            emulator, httpx.HTTPTransport(), server.base_url, stores, **settings_overrides
        )
    except BaseException:
        stores.close()
        server.stop()
        raise
    return _harness(provider, driver, stores, server.stop)
