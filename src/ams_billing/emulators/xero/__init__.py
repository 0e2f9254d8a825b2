"""A faithful local emulator of Xero's identity and accounting APIs for one custom connection.

It runs in-process as an httpx transport (fast tests) or as a real HTTP server on loopback (end
to end tests, the demo, developers without a Xero account)::

    emu = XeroEmulator(EmulatorConfig(seed=0), clock=EmulatorClock.virtual())
    client = httpx.Client(transport=emu.transport(), base_url="https://emulator.invalid")

    with serve_emulator(emu) as server:  # server.base_url == "http://127.0.0.1:<port>"
        ...

One base URL serves ``POST /connect/token``, ``GET /connections`` and ``/api.xro/2.0/...``.
Behaviour follows ``shared/reference/xero-api.md``; each module's docstring names the rules it
implements and the unconfirmed ([U]) choices it made.

Modules: ``clock`` (virtual/scaled time), ``config``, ``ids`` (seeded ids), ``books`` (state),
``wire`` (JSON, dates, envelopes, errors), ``messages`` (request/response values), ``query``
(where, paging), ``context`` (handler helpers, batches), ``identity``, ``contacts``,
``invoices``, ``payments``, ``settings_api``, ``limits``, ``idempotency``, ``faults``,
``holds`` (responses held after a change), ``webhooks``, ``calllog``, ``control``
(``/_emulator``), ``app`` (the engine), ``transport``,
``server``, ``foreground`` (serving until a stop signal, for both command forms), ``__main__``
(the command). Its pytest fixtures are in
:mod:`ams_billing.contracts.xero_emulator`; the contract harness and driver of the Xero provider
over it in :mod:`~ams_billing.emulators.xero.harness` and :mod:`~ams_billing.emulators.xero.driver`
(the testing layer: nothing in the emulator imports them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ams_billing.core.deprecation import moved
from ams_billing.emulators.common.clock import EmulatorClock
from ams_billing.emulators.common.messages import EmulatorError

from .app import XeroEmulator
from .books import BooksSnapshot
from .calllog import CallRecord, CallSummary
from .config import (
    BROAD_SCOPES,
    GRANULAR_SCOPES,
    AccountSpec,
    EmulatorConfig,
    RateLimits,
    TaxRateSpec,
    WebhookBehaviour,
)
from .exports import XERO_CLASS_PATH, provider_environment, throwaway_database
from .faults import FaultKind, FaultRule
from .holds import HeldCall, ResponseHold
from .server import EmulatorServer, serve_emulator
from .transport import EmulatorTransport
from .webhooks import DeliveryAttempt, IntentCheck, IntentToReceiveReport, sign

__all__ = [
    "BROAD_SCOPES",
    "GRANULAR_SCOPES",
    "XERO_CLASS_PATH",
    "AccountSpec",
    "BooksSnapshot",
    "CallRecord",
    "CallSummary",
    "DeliveryAttempt",
    "EmulatorClock",
    "EmulatorConfig",
    "EmulatorError",
    "EmulatorServer",
    "EmulatorTransport",
    "FaultKind",
    "FaultRule",
    "HeldCall",
    "IntentCheck",
    "IntentToReceiveReport",
    "RateLimits",
    "ResponseHold",
    "TaxRateSpec",
    "WebhookBehaviour",
    "XeroEmulator",
    "provider_environment",
    "serve_emulator",
    "sign",
    "throwaway_database",
]

# Old names, kept with a DeprecationWarning (issue 18). Type checkers see plain aliases, so
# code typed against the old names still checks; at run time each use warns.
if TYPE_CHECKING:
    WebhookDelivery = DeliveryAttempt
else:
    __getattr__ = moved(__name__, {"WebhookDelivery": "ams_billing.emulators.xero:DeliveryAttempt"})
