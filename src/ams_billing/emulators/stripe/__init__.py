"""A stateful local emulator of the Stripe v1 API subset ams-billing uses (test mode only).

Serve it on a free loopback port and point stripe-python (or the Stripe provider) at it::

    from ams_billing.emulators.stripe import StripeEmulator

    with StripeEmulator() as emu:                      # or emu = StripeEmulator().start()
        client = stripe.StripeClient(emu.secret_key, base_addresses={"api": emu.base_url})
        ...
        emu.advance_clock(3600)                        # seconds or a timedelta
        emu.pay_invoice("in_...")                      # paid out of band: invoice.paid
        emu.deliver_webhooks(at=None)                  # post pending events, signed at a time
    # emu.stop() when not used as a context manager

Without a server, :meth:`StripeEngine.client` gives an in-process ``httpx.Client`` (already
authorised) and :class:`StripeTransport` an httpx transport.

API (``/v1``, form-encoded, Bearer or Basic auth with a key of the account, ``sk_test_…``;
401 otherwise): ``customers`` (create, retrieve, update, delete, list, ``search`` by
``metadata["k"]:"v"``/``email``/``name`` with an indexing delay), ``invoiceitems`` (create,
retrieve, list, delete), ``invoices`` (create a draft with ``pending_invoice_items_behavior``,
retrieve, update, list with ``customer``/``status``/``collection_method``/``created`` filters,
``lines``, ``finalize``, ``send``, ``pay`` with ``paid_out_of_band=true``, ``void``,
``mark_uncollectible``, delete a draft), ``webhook_endpoints`` (create with a ``whsec_`` secret
shown once, retrieve, update, list, delete), ``events`` (list, retrieve; 30 days). Errors are
Stripe's error object; every answer has a ``Request-Id``. POSTs are idempotent by
``Idempotency-Key`` for 24 h of the emulator's clock (``Idempotent-Replayed: true``; other
parameters under a used key: 400 ``idempotency_error``). Rate limits: 25 reads/s, 25 writes/s,
25/s per endpoint, 20/s for search (429 ``rate_limit``); switch off with
``StripeEmulatorConfig(rate_limits=None)``.

Control surface (JSON, loopback, unauthenticated): see :mod:`.control` and
``docs/emulator-stripe.md`` — ``/_emulator/calls``, ``/state``, ``/reset``, ``/clock``,
``/clock/advance``, ``/invoices/{id}/pay``, ``/webhooks``, ``/webhooks/deliver``,
``/webhooks/sign``, ``/search/delay``, ``/faults``, ``/hosted/{id}``.

Modules, one job each: ``config``, ``clock``, ``ids``, ``form`` (the wire encoding),
``errors``, ``state`` (the objects), ``shapes`` (their JSON), ``context``, ``lists``,
``customers``, ``search``, ``invoiceitems``, ``invoices``, ``endpoints``, ``events``,
``webhooks`` (signing and posting), ``limits``, ``idempotency``, ``faults``, ``calllog``,
``routes``, ``app`` (the engine), ``control``, ``transport``, ``server``, ``emulator``
(:class:`StripeEmulator`), ``foreground`` and ``__main__`` (the command). The clock, response
holds and request/response values are the Xero emulator's (provider-neutral).
"""

from __future__ import annotations

from ams_billing.emulators.common.messages import EmulatorError
from ams_billing.emulators.xero.holds import HeldCall, ResponseHold

from .app import StripeEngine
from .calllog import CallRecord, CallSummary
from .clock import EmulatorClock
from .config import DEFAULT_API_VERSION, DEFAULT_SECRET_KEY, RateLimits, StripeEmulatorConfig
from .emulator import StripeEmulator
from .faults import FaultKind, FaultRule
from .server import StripeServer
from .transport import StripeTransport
from .webhooks import DeliveryAttempt, sign_payload, signature_header

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_SECRET_KEY",
    "CallRecord",
    "CallSummary",
    "DeliveryAttempt",
    "EmulatorClock",
    "EmulatorError",
    "FaultKind",
    "FaultRule",
    "HeldCall",
    "RateLimits",
    "ResponseHold",
    "StripeEmulator",
    "StripeEmulatorConfig",
    "StripeEngine",
    "StripeServer",
    "StripeTransport",
    "sign_payload",
    "signature_header",
]
