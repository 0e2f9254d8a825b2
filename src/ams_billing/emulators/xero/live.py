"""Running the contract against a real Xero tenant (a Demo Company, ideally), and cleaning up.

:func:`live_harness` builds the provider from the ``XERO_*`` variables and a
:class:`LiveDriver` that acts as the outside world:

- a member's payment is a real ``PUT /Payments`` into ``XERO_LIVE_PAYMENT_ACCOUNT_CODE``
  (default ``090``, the Demo Company's bank account; needs a transactions or payments scope);
- Xero cannot call a test run back, so webhook deliveries are built by the driver for the
  invoices it created or paid, shaped and signed exactly as Xero's (``XERO_WEBHOOK_KEY``);
- on ``close`` every payment it made is deleted, every invoice created through the harness is
  voided and every contact archived, so a run leaves nothing open in the tenant.

References and keys the contract makes are prefixed with :data:`LIVE_PREFIX` by the live test
module; the records are recognisable and removable by that prefix.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Generator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial

from ams_billing.core.errors import BillingError, ValidationError
from ams_billing.core.hookspecs import hookimpl
from ams_billing.core.models import ContactRecord, Invoice
from ams_billing.core.service import BillingService
from ams_billing.core.signing import sign_body
from ams_billing.providers.xero import wire
from ams_billing.providers.xero.errors import element_messages, field_errors
from ams_billing.providers.xero.ledger import xero_key
from ams_billing.providers.xero.provider import XeroProvider
from ams_billing.providers.xero.webhooks import SIGNATURE_HEADER
from ams_billing.testing.harness import ContractHarness, SignedDelivery

__all__ = [
    "LIVE_FLAG",
    "LIVE_PREFIX",
    "REQUIRED_VARIABLES",
    "CreatedRecords",
    "LiveDriver",
    "live_harness",
    "missing_variables",
]

LIVE_FLAG = "AMS_BILLING_XERO_LIVE"
"""Set to 1 (or pass ``--xero-live``) to let the live tests talk to Xero."""

LIVE_PREFIX = "ams-billing-test-"
"""What the names of records made by a live run start with."""

REQUIRED_VARIABLES = (
    "XERO_CLIENT_ID",
    "XERO_CLIENT_SECRET",
    "XERO_WEBHOOK_KEY",
    "XERO_ACCOUNT_CODE",
    "XERO_AMOUNT_TYPE",
    "XERO_CURRENCY_CODE",
)
"""The variables a live run needs (``XERO_TENANT_ID`` is optional, as in production)."""

logger = logging.getLogger("ams_billing.xero")


def missing_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """The required variables that are unset or blank."""
    source = os.environ if environ is None else environ
    return [name for name in REQUIRED_VARIABLES if not (source.get(name) or "").strip()]


class CreatedRecords:
    """A policy that notes every contact and invoice the service creates (for the clean-up)."""

    def __init__(self) -> None:
        self.contacts: set[str] = set()
        self.invoices: list[str] = []
        self._lock = threading.Lock()

    @hookimpl(wrapper=True)
    def create_contact(self) -> Generator[None, ContactRecord, ContactRecord]:
        """Note the contact created."""
        record = yield
        with self._lock:
            self.contacts.add(record.provider_id)
        return record

    @hookimpl(wrapper=True)
    def create_invoice(self) -> Generator[None, Invoice, Invoice]:
        """Note the invoice created and its contact."""
        invoice = yield
        with self._lock:
            if invoice.provider_id not in self.invoices:
                self.invoices.append(invoice.provider_id)
            self.contacts.add(invoice.contact.provider_id)
        return invoice


class LiveDriver:
    """The contract's test driver against a real tenant (see the module docs)."""

    def __init__(
        self, provider: XeroProvider, records: CreatedRecords, payment_account: str
    ) -> None:
        self.provider = provider
        self.records = records
        self.payment_account = payment_account
        self.payments: list[str] = []
        self._announced = 0
        self._paid: list[str] = []
        self._lock = threading.Lock()

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        """Pay ``amount`` towards the invoice with a real payment."""
        with self._lock:
            sequence = len(self.payments)
        payment = wire.WirePayment(
            invoice=wire.WireInvoice(invoice_id=invoice_id),
            account=wire.WireAccount(code=self.payment_account),
            payment_date=date.today(),
            amount=amount,
        )
        response = self.provider.http.api(
            "PUT",
            "/Payments",
            params={"summarizeErrors": "false"},
            body={"Payments": [wire.unstructure(payment)]},
            idempotency_key=xero_key("payment", f"{invoice_id}:{amount}:{sequence}"),
            resource_id=invoice_id,
        )
        (made,) = wire.read(response.content, wire.PaymentsEnvelope).payments
        messages = list(element_messages(made))
        if messages or not made.payment_id:
            raise ValidationError(field_errors(messages, "invoice"))
        with self._lock:
            self.payments.append(made.payment_id)
            self._paid.append(invoice_id)

    def take_webhook_deliveries(self) -> list[SignedDelivery]:
        """One delivery, signed with the webhook key, naming the invoices changed since last."""
        with self._lock:
            created = self.records.invoices[self._announced :]
            self._announced = len(self.records.invoices)
            changed = list(dict.fromkeys(created + self._paid))
            self._paid.clear()
        if not changed:
            return []
        settings = self.provider.settings
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        payload = wire.WebhookPayload(
            events=tuple(
                wire.WebhookEventBody(
                    resource_id=invoice_id,
                    resource_url=f"{settings.api_base}/Invoices/{invoice_id}",
                    event_date_utc=stamp,
                    event_type="UPDATE",
                    event_category="INVOICE",
                    tenant_id=settings.tenant_id,
                    tenant_type="ORGANISATION",
                )
                for invoice_id in changed
            ),
            first_event_sequence=1,
            last_event_sequence=len(changed),
            entropy="AMSBILLINGLIVETEST",
        )
        body = wire.dumps(wire.unstructure(payload))
        signature = sign_body(body, settings.webhook_key.reveal())
        return [
            SignedDelivery(body, {"content-type": "application/json", SIGNATURE_HEADER: signature})
        ]

    def cleanup(self) -> None:
        """Delete the payments made, void the invoices and archive the contacts created."""
        api = self.provider.http.api
        for payment_id in self.payments:
            _quietly(
                "delete a payment",
                partial(
                    api,
                    "POST",
                    f"/Payments/{payment_id}",
                    body={"Status": "DELETED"},
                    idempotency_key=xero_key("delete-payment", payment_id),
                ),
            )
        for invoice_id in self.records.invoices:
            _quietly("void an invoice", partial(self.provider.void_invoice, invoice_id))
        for contact_id in sorted(self.records.contacts | self._prefixed_contacts()):
            archived = wire.WireContact(contact_id=contact_id, contact_status="ARCHIVED")
            _quietly(
                "archive a contact",
                partial(
                    api,
                    "POST",
                    "/Contacts",
                    params={"summarizeErrors": "false"},
                    body={"Contacts": [wire.unstructure(archived)]},
                    idempotency_key=xero_key("archive", contact_id),
                    kind="contact",
                ),
            )

    def _prefixed_contacts(self) -> set[str]:
        """Active contacts whose number carries the prefix (a failed create leaves some)."""
        found: set[str] = set()
        try:
            response = self.provider.http.api(
                "GET", "/Contacts", params={"searchTerm": LIVE_PREFIX}, kind="contact"
            )
        except BillingError as error:
            logger.warning("live clean-up could not search for contacts: %s", error)
            return found
        for contact in wire.read(response.content, wire.ContactsEnvelope).contacts:
            number = contact.contact_number or ""
            if contact.contact_id and number.startswith(LIVE_PREFIX):
                found.add(contact.contact_id)
        return found


def _quietly(what: str, action: Callable[[], object]) -> None:
    try:
        action()
    except BillingError as error:
        logger.warning("live clean-up could not %s: %s", what, error)


def live_harness(environ: Mapping[str, str] | None = None) -> ContractHarness:
    """The provider against the tenant the ``XERO_*`` variables name; cleans up on close."""
    source = os.environ if environ is None else environ
    provider = XeroProvider.from_env(source)
    records = CreatedRecords()
    service = BillingService(provider, policies=[records])
    driver = LiveDriver(
        provider, records, (source.get("XERO_LIVE_PAYMENT_ACCOUNT_CODE") or "090").strip()
    )

    def close() -> None:
        try:
            driver.cleanup()
        finally:
            provider.close()

    return ContractHarness(
        service=service,
        driver=driver,
        currency=provider.settings.currency_code,
        account_code=provider.settings.account_code,
        tax_rate=None,
        close=close,
        secrets=(provider.settings.client_secret.reveal(), provider.settings.webhook_key.reveal()),
    )
