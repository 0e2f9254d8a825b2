"""Fixtures of the end-to-end run inside the AMS: the Xero and Stripe emulators on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ams_billing.contrib.django.service import reset_billing_service
from ams_billing.emulators.stripe import DeliveryAttempt, StripeEmulator
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    XeroEmulator,
    provider_environment,
    serve_emulator,
)


@pytest.fixture
def emulator(settings: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[XeroEmulator]:
    """A fresh emulator served on 127.0.0.1; settings and environment point the AMS at it."""
    emulator = XeroEmulator(EmulatorConfig(), clock=EmulatorClock.real())
    with serve_emulator(emulator) as server:
        for name, value in provider_environment(emulator.config, server.base_url).items():
            if name.startswith("XERO_"):
                monkeypatch.setenv(name, value)
                setattr(settings, name, value)  # the AMS's settings win over the environment
        reset_billing_service()
        emulator.base_url = server.base_url  # type: ignore[attr-defined]
        yield emulator
        reset_billing_service()


STRIPE_CLASS_PATH = "ams.billing.providers.stripe.StripeBillingService"
"""The migration's Stripe class path (``ams/billing/providers/stripe/__init__.py``)."""


class StripeDesk:
    """The Stripe emulator as the tests use it: Stripe's wire API, plus paying out of band.

    Reads go through the emulator's real HTTP API with its secret key, as a Stripe Dashboard
    user would look; only paying out of band and waiting for deliveries use its control side.
    """

    def __init__(self, emulator: Any, settings: Any) -> None:
        self.emulator = emulator
        self.settings = settings
        self.base_url: str = emulator.base_url
        self.secret_key: str = emulator.config.secret_key
        self.webhook_secret = ""
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.secret_key}"},
            timeout=10,
        )

    def environment(self) -> dict[str, str]:
        """The variables a ``manage.py`` needs to bill through this emulator."""
        values = {
            "AMS_BILLING_SERVICE_CLASS": STRIPE_CLASS_PATH,
            "STRIPE_API_BASE": self.base_url,
            "STRIPE_SECRET_KEY": self.secret_key,
            "STRIPE_CURRENCY": "NZD",
        }
        if self.webhook_secret:
            values["STRIPE_WEBHOOK_SECRET"] = self.webhook_secret
        return values

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        """``GET path`` on the emulator's API, checked for a 200."""
        response = self._http.get(path, params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def events(self, kind: str) -> list[dict[str, Any]]:
        """The account's events of one type, oldest first."""
        return list(reversed(self.get("/v1/events", type=kind, limit=100)["data"]))

    def register_webhook(self, url: str) -> None:
        """Add an endpoint at ``url`` (as in the Dashboard) and give the AMS its secret."""
        events = ["invoice.paid", "invoice.voided", "invoice.marked_uncollectible"]
        response = self._http.post(
            "/v1/webhook_endpoints",
            data={"url": url, **{f"enabled_events[{i}]": e for i, e in enumerate(events)}},
        )
        assert response.status_code == 200, response.text
        self.webhook_secret = response.json()["secret"]
        self.settings.STRIPE_WEBHOOK_SECRET = self.webhook_secret
        reset_billing_service()

    def pay_out_of_band(self, invoice_id: str) -> None:
        """Mark the invoice paid outside Stripe (a bank transfer), as the Dashboard does."""
        self.emulator.pay_invoice(invoice_id)

    def deliver(self) -> list[DeliveryAttempt]:
        """Post every event the emulator owes an endpoint, signed now; the attempts."""
        return list(self.emulator.deliver_webhooks())

    def calls(self) -> list[str]:
        """The API calls the emulator received, as ``METHOD /path``."""
        return [f"{c.method} {c.path}" for c in self.emulator.calls]

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()


@pytest.fixture
def stripe(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeDesk]:
    """A fresh Stripe emulator on 127.0.0.1; the AMS bills through it, by the migration's class."""
    with StripeEmulator() as emulator:
        desk = StripeDesk(emulator, settings)
        for name, value in desk.environment().items():
            monkeypatch.setenv(name, value)
            setattr(settings, name, value)  # the AMS's settings win over the environment
        settings.BILLING_SERVICE_CLASS = STRIPE_CLASS_PATH  # the AMS's setting, as in production
        reset_billing_service()
        try:
            yield desk
        finally:
            desk.close()
            reset_billing_service()
