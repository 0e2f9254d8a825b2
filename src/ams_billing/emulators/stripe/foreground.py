"""Serve the Stripe emulator in the foreground until a stop signal.

What ``ams-billing emulator --provider stripe`` and ``python -m ams_billing.emulators.stripe``
run.

It starts the server on a real (optionally sped-up) clock, makes a throwaway database folder,
registers a webhook endpoint when given ``webhook_url``, announces what to export, and waits.
SIGTERM, SIGHUP and SIGINT end it the same way: the server stops, the folder is deleted, the
call returns. The printed key and ``whsec_`` secret are the emulator's own fake ones.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any

import attrs

from ams_billing.core.signals import handling_signals
from ams_billing.core.state import DATABASE_URL_VARIABLE
from ams_billing.emulators.xero.exports import throwaway_database
from ams_billing.emulators.xero.foreground import STOP_SIGNALS, CannotServeError

from .clock import EmulatorClock
from .config import RateLimits, StripeEmulatorConfig
from .emulator import StripeEmulator

__all__ = ["STRIPE_PROVIDER", "StripeAnnouncement", "StripeOptions", "serve_stripe_in_foreground"]

STRIPE_PROVIDER = "stripe"
"""The provider's entry-point name (``AMS_BILLING_SERVICE_CLASS``)."""

_POLL_SECONDS = 0.1


@attrs.frozen
class StripeOptions:
    """What the command line chose."""

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 0
    rate_limits: bool = True
    scale: float = 1.0
    webhook_url: str | None = None
    webhook_interval: float = 2.0

    def emulator(self) -> StripeEmulator:
        """A new emulator on a real clock (``scale`` times faster), not yet serving."""
        config = StripeEmulatorConfig(
            seed=self.seed, rate_limits=RateLimits() if self.rate_limits else None
        )
        return StripeEmulator(config, clock=EmulatorClock.real(scale=self.scale))


@attrs.frozen
class StripeAnnouncement:
    """Where the emulator serves and what to export."""

    base_url: str
    environment: Mapping[str, str]

    @property
    def control_url(self) -> str:
        """The control surface's call log."""
        return f"{self.base_url}/_emulator/calls"

    def lines(self) -> list[str]:
        """The text form: ``export NAME=value`` lines between two comments (an env file)."""
        return [
            "# Stripe emulator running; export these (fake test-mode credentials, and billing "
            "state in a throwaway SQLite file of this emulator's own, deleted when it stops):",
            *(f"export {name}={value}" for name, value in self.environment.items()),
            f"# control surface: {self.control_url}  (Ctrl-C or SIGTERM to stop)",
        ]

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` form."""
        return {
            "ok": True,
            "provider": STRIPE_PROVIDER,
            "base_url": self.base_url,
            "control_url": self.control_url,
            "environment": dict(self.environment),
        }


def stripe_environment(
    emulator: StripeEmulator, *, database_url: str | None, webhook_secret: str | None
) -> dict[str, str]:
    """The variables that point the Stripe provider at ``emulator``."""
    environment = {
        "AMS_BILLING_SERVICE_CLASS": STRIPE_PROVIDER,
        "STRIPE_API_BASE": emulator.base_url,
        "STRIPE_SECRET_KEY": emulator.secret_key,
    }
    if webhook_secret:
        environment["STRIPE_WEBHOOK_SECRET"] = webhook_secret
    if database_url:
        environment[DATABASE_URL_VARIABLE] = database_url
    return environment


def serve_stripe_in_foreground(
    options: StripeOptions,
    announce: Callable[[StripeAnnouncement], None],
    *,
    stopped: Callable[[str], None] = lambda reason: None,
) -> None:
    """Serve until SIGTERM, SIGHUP or SIGINT, then stop and delete the database folder.

    Raises :class:`CannotServeError` for a host that is not loopback or a port that cannot be
    bound, before anything is created.
    """
    where = f"{options.host}:{options.port}"
    emulator = options.emulator()
    received: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    with handling_signals(STOP_SIGNALS, note):
        interval = options.webhook_interval if options.webhook_url else None
        try:
            emulator.start(options.host, options.port, webhook_interval=interval)
        except (OSError, ValueError) as error:
            raise CannotServeError(f"cannot serve on {where}: {error}") from None
        try:
            secret = None
            if options.webhook_url:
                _, secret = emulator.create_webhook_endpoint(options.webhook_url)
            with throwaway_database() as database:
                environment = stripe_environment(
                    emulator, database_url=database, webhook_secret=secret
                )
                announce(StripeAnnouncement(emulator.base_url, environment))
                while not received:
                    time.sleep(_POLL_SECONDS)
                stopped(signal.Signals(received[0]).name)
        finally:
            emulator.stop()
