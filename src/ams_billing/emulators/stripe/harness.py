"""The contract harness: the Stripe provider over the Stripe emulator, in-process.

:func:`in_process_harness` (registered as ``stripe`` under ``ams_billing.contract_harnesses``)
builds a fresh emulator (virtual clock at the current time, a webhook endpoint with its
``whsec_`` secret), the provider over its in-process transport reading that clock (pacing and
retry waits advance it; "today" and webhook ages are the emulator's), and a durable ledger in a
temporary SQLite file. ``restart`` builds a new provider over the same emulator and file, the
clock moved past Stripe's 24-hour key window; ``expire_remote_keys`` moves it so without a
restart. :func:`loopback_harness` does the same over real HTTP to the emulator on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from ams_billing.core.service import BillingService
from ams_billing.emulators.stripe import StripeEmulator, StripeEmulatorConfig, StripeTransport
from ams_billing.emulators.stripe.driver import ScriptedTransport, StripeTestDriver
from ams_billing.providers.stripe.provider import StripeProvider
from ams_billing.providers.stripe.settings import StripeSettings
from ams_billing.testing.harness import ContractHarness
from ams_billing.testing.scratch import ScratchStores

__all__ = [
    "EMULATOR_BASE_URL",
    "WEBHOOK_URL",
    "in_process_harness",
    "loopback_harness",
    "settings_environ",
]

EMULATOR_BASE_URL = "https://stripe-emulator.invalid"
"""The base URL paired with the in-process transport (never resolved)."""

WEBHOOK_URL = "https://ams.invalid/billing/webhooks/stripe"
"""Where the emulator's webhook endpoint points (deliveries are captured, never sent)."""


def settings_environ(settings: StripeSettings) -> dict[str, str]:
    """The ``STRIPE_*`` variables from which ``StripeSettings.from_env`` reads ``settings``."""
    return {
        "STRIPE_SECRET_KEY": settings.secret_key.reveal(),
        "STRIPE_WEBHOOK_SECRET": ",".join(s.reveal() for s in settings.webhook_secrets),
        "STRIPE_API_VERSION": settings.api_version,
        "STRIPE_API_BASE": settings.api_base,
        "STRIPE_CURRENCY": settings.currency,
    }


class _Relay:
    """The emulator's webhook poster, handing each delivery to the driver once it exists."""

    def __init__(self) -> None:
        self.target: Callable[[str, bytes, dict[str, str]], int] | None = None

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        return 503 if self.target is None else self.target(url, body, headers)


def _harness(
    emulator: StripeEmulator,
    relay: _Relay,
    inner: httpx.BaseTransport,
    base_url: str,
    *,
    stop: Callable[[], None] = lambda: None,
    **overrides: Any,
) -> ContractHarness:
    endpoint_id, secret = emulator.create_webhook_endpoint(WEBHOOK_URL)
    transport = ScriptedTransport(inner)
    values: dict[str, Any] = {
        "secret_key": emulator.secret_key,
        "webhook_secrets": (secret,),
        "api_base": base_url,
        "api_version": emulator.config.api_version,
        "currency": "USD",
        "timeout": 10.0,
    }
    values.update(overrides)
    settings = StripeSettings(**values)
    driver = StripeTestDriver(
        emulator, transport, endpoint_id=endpoint_id, attempts=settings.max_attempts
    )
    relay.target = driver.receive  # deliveries are captured, never posted
    stores = ScratchStores()
    providers: list[StripeProvider] = []

    def build() -> BillingService:
        providers.append(
            StripeProvider(
                settings,
                transport=transport,
                clock=emulator.clock.elapsed,
                sleep=emulator.clock.sleep,
                now=emulator.clock.now,
                idempotency_store=stores.stores.idempotency,
            )
        )
        return BillingService(providers[-1], state_store=stores.stores.invoice_state)

    def expire_remote_keys() -> None:
        # Past Stripe's memory of every Idempotency-Key: only the provider's ledger is left.
        emulator.advance_clock(emulator.config.idempotency_window + 1)

    def restart() -> BillingService:
        expire_remote_keys()
        return build()

    def close() -> None:
        try:
            for each in providers:
                each.close()
        finally:
            stores.close()
            stop()

    return ContractHarness(
        service=build(),
        driver=driver,
        currency="USD",
        account_code=None,
        tax_rate=None,
        close=close,
        other_currencies=("EUR", "JPY"),
        restart=restart,
        expire_remote_keys=expire_remote_keys,
        secrets=(emulator.secret_key, secret),
        environ=settings_environ(settings),
    )


def in_process_harness(
    config: StripeEmulatorConfig | None = None, **settings_overrides: Any
) -> ContractHarness:
    """The provider over the emulator's in-process transport, on its virtual clock."""
    relay = _Relay()
    emulator = StripeEmulator(config, poster=relay)
    return _harness(
        emulator, relay, StripeTransport(emulator), EMULATOR_BASE_URL, **settings_overrides
    )


def loopback_harness(
    config: StripeEmulatorConfig | None = None, **settings_overrides: Any
) -> ContractHarness:
    """The provider over real HTTP to the emulator served on ``127.0.0.1``."""
    relay = _Relay()
    emulator = StripeEmulator(config, poster=relay).start()
    try:
        return _harness(
            emulator,
            relay,
            httpx.HTTPTransport(),
            emulator.base_url,
            stop=emulator.stop,
            **settings_overrides,
        )
    except BaseException:
        emulator.stop()
        raise
