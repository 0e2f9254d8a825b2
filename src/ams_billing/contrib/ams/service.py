"""The AMS's ``BillingService`` interface over an ams-billing :class:`~ams_billing.BillingService`.

Each method is the AMS's, with the AMS's arguments and results; each is a few lines over the
process-wide service of :mod:`ams_billing.contrib.django.service`, so the token, the rate-limit
pacing and the idempotency ledger outlive the AMS's habit of building a service per call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from django.conf import settings

from ams_billing.contrib.ams import rows
from ams_billing.contrib.ams.keys import contact_key, invoice_key
from ams_billing.contrib.django.service import get_billing_service
from ams_billing.core.models import AmountType, Invoice, InvoiceRequest, LineItem
from ams_billing.core.money import UNIT_AMOUNT_PLACES
from ams_billing.core.service import BillingService

__all__ = ["AmsBillingService", "MockXeroBillingService", "XeroBillingService"]

logger = logging.getLogger("ams_billing.ams")

_CREATED_CACHE = 256  # invoices kept between create_invoice and the email that follows it


class AmsBillingService:
    """The AMS's billing service interface, on the provider named by ``ams_billing_provider``.

    Built with no arguments, as the AMS's ``get_billing_service()`` builds it; the provider
    reads the setup guide's ``XERO_*`` settings (Django settings first, then the environment)
    on the first call, not here: building one never fails or calls out, as the AMS's own did,
    and a configuration problem is reported, whole, by the first operation that needs it.
    """

    ams_billing_provider: ClassVar[str] = "xero"
    """The ams-billing provider this class runs on (also how ``load_service`` resolves it)."""

    def __init__(self, billing: BillingService | None = None) -> None:
        self._billing = billing
        self._created: dict[str, Invoice] = {}

    @property
    def billing(self) -> BillingService:
        """The ams-billing service doing the work (the process's, for this provider)."""
        if self._billing is None:
            self._billing = get_billing_service(self.ams_billing_provider)
        return self._billing

    def __repr__(self) -> str:
        return f"{type(self).__name__}(provider={self.ams_billing_provider!r})"

    # -- contacts ---------------------------------------------------------------------------

    def update_user_billing_details(self, user: Any) -> None:
        """Create or update the contact of the user's billing account."""
        self._upsert_contact(user.account, rows.user_contact(user))

    def update_organisation_billing_details(self, organisation: Any) -> None:
        """Create or update the contact of the organisation's billing account."""
        self._upsert_contact(organisation.account, rows.organisation_contact(organisation))

    def _upsert_contact(self, account: Any, contact: Any) -> None:
        record = self.billing.create_contact(
            contact, idempotency_key=contact_key(account.pk, contact)
        )
        rows.link_contact(account, record.provider_id)

    # -- invoices ---------------------------------------------------------------------------

    def create_invoice(
        self,
        account: Any,
        date: date,
        due_date: date,
        line_items: list[dict[str, Any]],
        reference: str,
        *,
        idempotency_key: str | None = None,
    ) -> Any:
        """Raise an OPEN invoice and return the AMS's ``Invoice`` row for it.

        A retry of a call that wrote no row (a timeout, a lost response, a rolled-back
        transaction) raises no second invoice and returns the row for the first; the key is
        derived from the account's rows and the request (:mod:`~ams_billing.contrib.ams.keys`).
        Pass ``idempotency_key`` to choose it yourself.
        """
        request = self.invoice_request(account, date, due_date, line_items, reference)
        key = idempotency_key or invoice_key(account.pk, rows.latest_invoice_pk(account), request)
        invoice = self.billing.create_invoice(request, idempotency_key=key)
        self._remember(invoice)
        return rows.create_invoice_row(account, invoice)

    def invoice_request(
        self,
        account: Any,
        issue_date: date,
        due_date: date,
        line_items: Sequence[Mapping[str, Any]],
        reference: str | None,
    ) -> InvoiceRequest:
        """The request the AMS's arguments make, with the guide's account, currency and type."""
        return InvoiceRequest(
            contact=rows.account_contact(account),
            line_items=[_line_item(index, item) for index, item in enumerate(line_items)],
            currency=str(settings.XERO_CURRENCY_CODE),
            issue_date=issue_date,
            due_date=due_date,
            reference=reference or None,
            amount_type=AmountType(str(settings.XERO_AMOUNT_TYPE).upper()),
            account_code=str(settings.XERO_ACCOUNT_CODE),
        )

    def _remember(self, invoice: Invoice) -> None:
        if len(self._created) >= _CREATED_CACHE:
            self._created.pop(next(iter(self._created)))
        self._created[invoice.provider_id] = invoice

    def email_invoice(self, invoice: Any) -> None:
        """Email the invoice through the provider, once; policies may skip it (logged)."""
        provider_id = invoice.billing_service_invoice_id
        held = self._created.get(provider_id)
        result = self.billing.send_invoice(held if held is not None else provider_id)
        if not result.sent:
            logger.info(
                "invoice %s was not emailed: %s",
                invoice.invoice_number,
                result.skipped_reason.value if result.skipped_reason else "not sent",
            )

    def get_invoice_url(self, invoice: Any) -> str | None:
        """The online invoice URL (the member's pay link), or None without a provider id."""
        if not invoice.billing_service_invoice_id:
            return None
        return self.billing.get_invoice_url(invoice.billing_service_invoice_id)

    def update_invoices(self, billing_service_invoice_ids: list[str]) -> None:
        """Bring the AMS's rows for these invoices up to date from the provider.

        Rows are saved one by one with the changed fields only, so the AMS's ``post_save``
        receivers approve a membership whose invoice became paid. The AMS's caller owns its
        ``update_needed`` flag, as before.
        """
        for invoice in self.billing.get_invoices(list(billing_service_invoice_ids)):
            rows.write_invoice_row(invoice)


class XeroBillingService(AmsBillingService):
    """The AMS's Xero billing service, run by ams-billing's ``xero`` provider."""

    ams_billing_provider = "xero"


class MockXeroBillingService(XeroBillingService):
    """The AMS's test double: ams-billing's in-memory ``fake`` provider, no network.

    The pay link is the AMS's own invoice detail page, as the AMS's mock gave, so local
    development never links to a page that does not exist.
    """

    ams_billing_provider = "fake"

    def get_invoice_url(self, invoice: Any) -> str | None:
        """The AMS's ``billing:invoice-detail`` page for the invoice."""
        from django.urls import reverse  # noqa: PLC0415 - only the AMS has this route

        return reverse("billing:invoice-detail", kwargs={"invoice_number": invoice.invoice_number})


def _line_item(index: int, item: Mapping[str, Any]) -> LineItem:
    unit_amount = _decimal(item["unit_amount"]).quantize(
        Decimal(1).scaleb(-UNIT_AMOUNT_PLACES), rounding=ROUND_HALF_UP
    )  # Xero keeps unit amounts to 4 places; a pro-rata price may carry more
    return LineItem(
        description=str(item["description"]),
        quantity=_decimal(item["quantity"]),
        unit_amount=unit_amount,
    )


def _decimal(value: Any) -> Decimal:
    amount = getattr(value, "amount", value)  # django-money's Money carries .amount
    if isinstance(amount, float):
        return Decimal(str(amount))
    return Decimal(amount)
