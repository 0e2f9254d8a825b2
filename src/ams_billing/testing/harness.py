"""What the contract suite needs from a provider under test: a service and a test driver.

A provider author supplies a :class:`ContractHarness` through one factory that takes no
argument: subclass :class:`~ams_billing.contracts.ProviderContract` and implement
``make_harness``, or, for the zero-code run
(``pytest --pyargs ams_billing.contracts --billing-provider=NAME``), register the factory under
the entry-point group ``ams_billing.contract_harnesses`` with the provider's entry-point name
(or give the provider class a ``contract_harness()`` class method).

A harness may also say how to **restart** the provider (:attr:`ContractHarness.restart`): the
restart tests then check that a key used before a restart still bills once after it. It may say
how to make the accounting system **forget its idempotency keys** without a restart
(:attr:`ContractHarness.expire_remote_keys`): the key-expiry tests then check that a retry in
the same process, after the system's key window passed, still bills (and emails) once. And it
may name the provider's **secrets** (:attr:`ContractHarness.secrets`), which no refusal of a
webhook delivery may reveal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs

from ams_billing.core.errors import BillingError
from ams_billing.core.models import Invoice, InvoiceRequest
from ams_billing.core.service import BillingService

__all__ = [
    "ContractHarness",
    "DraftMaker",
    "EmailCounter",
    "ExpireKeys",
    "FaultInjector",
    "IntentToReceiveSigner",
    "ProviderTestDriver",
    "Restart",
    "SignedDelivery",
    "WebhookSigner",
]


@attrs.frozen
class SignedDelivery:
    """A webhook delivery exactly as the provider would send it: raw body and headers."""

    body: bytes
    headers: Mapping[str, str]


@runtime_checkable
class ProviderTestDriver(Protocol):
    """Acts as the world outside the AMS: the member paying, the provider calling back."""

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        """Record a payment against the invoice as if the member paid in the provider."""

    def take_webhook_deliveries(self) -> list[SignedDelivery]:
        """Return the signed deliveries the provider produced since the last call."""


@runtime_checkable
class FaultInjector(Protocol):
    """Optional: a driver that can make the provider fail on purpose."""

    def fail_next(
        self,
        count: int,
        error: type[BillingError],
        *,
        operations: Iterable[str] | None = None,
        after_apply: bool = False,
    ) -> None:
        """Fail the next ``count`` operations (of ``operations``, default all) with ``error``.

        With ``after_apply`` the change is made first and the error raised afterwards, as when
        a response is lost on its way back: a retry with the same idempotency key must then
        return the first result and create nothing more.
        """


@runtime_checkable
class EmailCounter(Protocol):
    """Optional: a driver that counts the emails the provider really sent.

    The email tests use it to check that a key sends one email, whatever the caller was told
    (a replay, a lost response); they skip unless the driver implements it.
    """

    def count_emails_sent(self, invoice_id: str) -> int:
        """How many emails the provider has really sent for the invoice so far."""


@runtime_checkable
class WebhookSigner(Protocol):
    """Optional: a driver that signs deliveries the provider would not produce by itself.

    With it the webhook tests check what a provider does with a genuine signature over an
    unusual body, and, for a provider that declares a ``signature_tolerance``, with a delivery
    signed at a chosen time; they skip unless the driver implements it.
    """

    def sign_webhook(self, body: bytes, *, at: datetime | None = None) -> dict[str, str]:
        """The headers that sign ``body`` as the provider would, at ``at`` (default: now).

        ``at`` is when the signature says it was made, on the accounting system's clock; a
        scheme with no time in its signature (Xero's) ignores it.
        """

    def sign_webhook_body(self, body: bytes) -> SignedDelivery:
        """Sign arbitrary bytes with the webhook key, headers as on a real delivery, now."""

    def sign_foreign_delivery(self, invoice_id: str) -> SignedDelivery:
        """A validly signed delivery about ``invoice_id`` whose events are another tenant's."""


@runtime_checkable
class IntentToReceiveSigner(Protocol):
    """Optional: a driver of a provider that declares ``intent_to_receive`` (Xero's check).

    With it the suite checks that a validly signed delivery with no events is answered 200.
    """

    def sign_empty_delivery(self) -> SignedDelivery:
        """A validly signed delivery with no events: an Intent-to-Receive check."""


@runtime_checkable
class DraftMaker(Protocol):
    """Optional: a driver that can put a DRAFT invoice in the provider's books."""

    def create_draft_invoice(self, request: InvoiceRequest) -> Invoice:
        """Create ``request`` as a DRAFT (unapproved) invoice, as a bookkeeper would."""


Restart = Callable[[], BillingService]
"""Builds the service again as a new process would: see :attr:`ContractHarness.restart`."""

ExpireKeys = Callable[[], None]
"""Makes the accounting system forget its idempotency keys: see
:attr:`ContractHarness.expire_remote_keys`."""


@attrs.define
class ContractHarness:
    """Everything one contract test needs; ``close`` releases it.

    ``currency`` and ``account_code`` must be accepted by the provider; ``tax_rate`` is the
    rate (a fraction) the provider applies to lines on ``account_code``, or ``None`` if the
    suite should only check totals for internal consistency. ``other_currencies`` are further
    currencies the provider accepts (list a zero-decimal one such as JPY if it has one); the
    suite bills in each, and skips those tests when there are none.

    ``restart`` is optional: a callable that returns a new :class:`BillingService`, over a new
    provider instance, as the AMS would have after its process restarted. The new instance
    shares only what survives a restart: the durable stores the first one used (its
    idempotency ledger, the service's invoice-state store) and the accounting system's books;
    it shares no cache or memory of the first. During the restart the accounting system's own
    short memory of idempotency keys expires (for Xero: its clock moves past the
    ``Idempotency-Key`` window). The restart tests replace ``service`` with what it returns and
    go on with the same ``driver``; ``close`` must release what restarted services hold too.
    Without it the restart tests skip, saying so.

    ``expire_remote_keys`` is optional too: a callable that makes the accounting system forget
    every idempotency key it remembers, as the passing of its key window does, while the
    provider instance (and its ledger, durable or in memory) goes on as it was: no restart. For
    a system whose window is a time (Xero: about six minutes), move its clock past the window;
    the provider should see that time pass too if it keeps time itself (the Xero harnesses move
    the emulator's virtual clock, which the provider reads). The key-expiry tests
    (:class:`~ams_billing.contracts.suites.key_expiry.KeyExpiryContract`) call it between a
    create (or a send) whose response was lost and its retry, in the same process; without it
    they skip, saying so.

    ``secrets`` are values that must never appear in what a provider says (its errors, its
    logs, the facade's answers): the webhook key, a client secret. The webhook tests check that
    a refused delivery reveals none of them; the harness's ``repr`` leaves them out.

    ``environ`` holds the environment variables from which ``load_service()`` builds a provider
    configured like this one, by the name it is installed under: the loading test
    (:class:`~ams_billing.contracts.suites.loading.LoadingContract`) builds it so, over durable
    stores, and makes no call to the accounting system with it. They may hold secrets (a
    webhook key), so ``repr`` leaves them out.
    """

    service: BillingService
    driver: ProviderTestDriver
    currency: str = "NZD"
    account_code: str | None = None
    tax_rate: Decimal | None = None
    close: Callable[[], None] = attrs.field(default=lambda: None)
    other_currencies: tuple[str, ...] = ()
    restart: Restart | None = None
    expire_remote_keys: ExpireKeys | None = None
    secrets: tuple[str, ...] = attrs.field(default=(), repr=False)
    environ: Mapping[str, str] = attrs.field(factory=dict, repr=False)
