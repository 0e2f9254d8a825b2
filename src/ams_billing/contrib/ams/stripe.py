"""The AMS's billing service on Stripe Invoicing: :class:`StripeBillingService`.

The AMS selects it with ``BILLING_SERVICE_CLASS`` (from ``AMS_BILLING_SERVICE_CLASS``), as
``ams.billing.providers.stripe.StripeBillingService`` after its migration, or by this module's
path. Everything but the provider is :class:`~ams_billing.contrib.ams.service.AmsBillingService`:
the same rows, keys, email and updates as for Xero, so a paid Stripe invoice makes the
membership ACTIVE exactly as a paid Xero invoice does.

Settings (Django settings first, then the environment): the ``stripe`` provider's own
(``STRIPE_SECRET_KEY``, ``STRIPE_WEBHOOK_SECRET``, ``STRIPE_API_VERSION``, ``STRIPE_API_BASE``
and :data:`CURRENCY_SETTING`, the currency every invoice is raised in, which the AMS requires).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ams_billing.contrib.ams.service import AmsBillingService, to_decimal
from ams_billing.contrib.django.service import settings_environ
from ams_billing.core.env import Environment, EnvReader
from ams_billing.core.errors import ValidationError
from ams_billing.core.models import LineItem
from ams_billing.core.money import currency_places, quantize, validate_currency_code

__all__ = ["CURRENCY_SETTING", "StripeBillingService"]

CURRENCY_SETTING = "STRIPE_CURRENCY"
"""The ``stripe`` provider's setting naming the invoices' currency (ISO 4217 in capitals, e.g.
``NZD``). The provider defaults it to ``USD``; the AMS requires it set: an association billed in
the wrong currency by default is worse than one that refuses to start billing."""


class StripeBillingService(AmsBillingService):
    """The AMS's billing service, run by ams-billing's ``stripe`` provider.

    - Contacts are Stripe customers, upserted by the provider on the account's UUID (kept in
      the customer's metadata); the AMS's ``XeroContact`` rows are left alone.
    - Invoices are raised in :data:`CURRENCY_SETTING`, with the provider's own tax rule (no
      amount type and no account code: those are Xero's).
    - A line whose unit amount has more decimal places than the currency (a pro-rata seat
      price, 100.00 / 3), or whose quantity is not a whole number, cannot be a Stripe line as
      it is: it is billed as one line of quantity 1 at the line's total, rounded half up to the
      currency's minor unit (so the member pays the pro-rata cost the AMS computed), and the
      quantity goes into the description. Every other line is billed as the AMS wrote it.
    """

    ams_billing_provider = "stripe"

    def currency_code(self) -> str:
        """:data:`CURRENCY_SETTING`; unset, or not an ISO 4217 code: a ConfigurationError."""
        reader = EnvReader(Environment.of(settings_environ()))
        value = reader.text(
            CURRENCY_SETTING,
            required=True,
            fix=f"set {CURRENCY_SETTING} to the ISO 4217 code you bill in, e.g. NZD",
        )
        code = value or ""
        if value is not None:
            try:
                validate_currency_code(code, CURRENCY_SETTING)
            except ValidationError as error:  # it names CURRENCY_SETTING
                reader.errors.extend(error.errors)
        reader.raise_errors("the AMS's Stripe billing")
        return code

    def line_item(self, index: int, item: Mapping[str, Any], currency: str) -> LineItem:
        """The AMS's line as a Stripe line: whole quantities, amounts in the currency's unit."""
        description = str(item["description"])
        quantity = to_decimal(item["quantity"])
        unit_amount = to_decimal(item["unit_amount"])
        places = currency_places(currency)
        if quantity == quantity.to_integral_value() and unit_amount == quantize(
            unit_amount, places
        ):
            return LineItem(
                description=description,
                quantity=quantity.to_integral_value(),
                unit_amount=unit_amount,
            )
        return LineItem(
            description=f"{description} (quantity {quantity.normalize():f})",
            quantity=Decimal(1),
            unit_amount=quantize(quantity * unit_amount, places),
        )
