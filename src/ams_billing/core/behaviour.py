"""What a provider declares about itself, so the core and the contract suite need not guess.

Providers differ where no one answer is right: how many decimal places a quantity keeps, how
tax is computed and rounded, what an invoice of zero becomes, whether an issued invoice shows
the contact as it is now or as it was, whether a past due date is refused, and how webhooks
are signed and delivered. A provider says which through the ``get_behaviour`` hook
(:func:`~ams_billing.core.hookspecs.get_behaviour`); :attr:`BillingService.behaviour
<ams_billing.core.service.BillingService.behaviour>` reports it, and the defaults
(``ProviderBehaviour()``, which are Xero's and the fake's answers) when the provider declares
nothing. The facade enforces what can be checked before a call (quantity places, a tax rate
a provider without tax would ignore, a past due date), and the contract suite checks each
provider against what it declares, never against another provider's answers.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta

import attrs

from ams_billing.core.errors import FieldError, ValidationError
from ams_billing.core.models import InvoiceRequest, InvoiceStatus
from ams_billing.core.money import significant_places

__all__ = ["ContactView", "ProviderBehaviour", "TaxModel", "WebhookBehaviour", "check_declared"]


class TaxModel(enum.Enum):
    """How a provider computes an invoice's tax.

    :attr:`LineItem.tax_rate <ams_billing.core.models.LineItem.tax_rate>` is the percentage
    applied to that line, whatever its account; ``tax_rate=None`` (the default) means the
    provider's own rule for it (for Xero and the fake, the rate of the line's revenue account).
    A provider may refuse an explicit rate it cannot honour exactly, with a ``ValidationError``
    naming ``line_items[i].tax_rate`` (Xero does: its lines carry a tax type, not a
    percentage); it never bills another rate silently.
    """

    PER_LINE_HALF_UP = "per_line_half_up"
    """Tax per line on its own rate, each rounded half away from zero to the currency's
    minor unit; the invoice's tax is the sum of the lines' (Xero, the fake)."""

    PER_INVOICE_HALF_UP = "per_invoice_half_up"
    """Tax computed on the invoice's total per rate and rounded once, half away from zero."""

    NO_TAX = "no_tax"
    """The provider computes no tax: every invoice's tax is zero and its amount type is
    ``AmountType.NO_TAX`` whatever the request asked (so its total is the sum of its lines),
    and a line that asks for a tax rate is refused by the facade (``ValidationError`` naming
    ``line_items[i].tax_rate``) rather than billed without it (Stripe, as ams-billing uses it:
    no tax rates, no automatic tax)."""


class ContactView(enum.Enum):
    """What an issued invoice shows of its contact when it is read again."""

    LIVE = "live"
    """The contact's current name and email (Xero, the fake): a changed email is where the
    next invoice email goes."""

    SNAPSHOT = "snapshot"
    """The name and email the contact had when the invoice was issued (Stripe freezes
    ``customer_name`` and ``customer_email`` at finalization)."""


def _non_negative(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be a whole number of places >= 0, not {value!r}")


@attrs.frozen
class WebhookBehaviour:
    """How a provider's webhooks behave.

    :param intent_to_receive: the provider checks a new endpoint with empty deliveries that must
        be answered 200 when signed and 401 when not (Xero's Intent to Receive).
    :param signature_tolerance: how old a delivery's signed timestamp may be before it is
        refused as a replay (Stripe: 300 s); ``None`` when the signature carries no timestamp.
    :param snapshot_events: deliveries carry the object's state (Stripe's snapshot events), so
        processing may use it instead of fetching the invoice.
    """

    intent_to_receive: bool = False
    signature_tolerance: timedelta | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(timedelta))
    )
    snapshot_events: bool = False


@attrs.frozen
class ProviderBehaviour:
    """What a provider declares about how it bills; the defaults are Xero's and the fake's.

    :param quantity_places: decimal places of a quantity the provider keeps exactly (Xero 4,
        Stripe 0). A line with more is refused by the facade with a ``ValidationError`` naming
        ``line_items[i].quantity``.
    :param tax_model: how tax is computed and rounded (:class:`TaxModel`).
    :param zero_total_status: what an invoice whose total is zero becomes when it is raised
        (Xero: ``OPEN``; Stripe marks it ``PAID``).
    :param issued_contact: what a re-read invoice shows of its contact (:class:`ContactView`).
    :param refuses_past_due_dates: a due date before today is refused (Stripe); the facade
        raises a ``ValidationError`` naming ``due_date`` before calling the provider.
    :param webhooks: how its webhooks behave (:class:`WebhookBehaviour`).
    """

    quantity_places: int = attrs.field(default=4, validator=_non_negative)
    tax_model: TaxModel = attrs.field(
        default=TaxModel.PER_LINE_HALF_UP, validator=attrs.validators.instance_of(TaxModel)
    )
    zero_total_status: InvoiceStatus = attrs.field(
        default=InvoiceStatus.OPEN, validator=attrs.validators.instance_of(InvoiceStatus)
    )
    issued_contact: ContactView = attrs.field(
        default=ContactView.LIVE, validator=attrs.validators.instance_of(ContactView)
    )
    refuses_past_due_dates: bool = False
    webhooks: WebhookBehaviour = attrs.field(
        factory=WebhookBehaviour, validator=attrs.validators.instance_of(WebhookBehaviour)
    )


def check_declared(request: InvoiceRequest, behaviour: ProviderBehaviour, *, today: date) -> None:
    """Raise :class:`ValidationError` for what ``behaviour`` says the provider cannot bill.

    Every field at fault is named at once: ``line_items[i].quantity`` for a quantity with more
    places than ``quantity_places``, ``line_items[i].tax_rate`` for a line naming a tax rate
    when the provider computes no tax (``TaxModel.NO_TAX``), ``due_date`` for a due date
    before ``today`` when the provider refuses past due dates.
    """
    errors: list[FieldError] = []
    places = behaviour.quantity_places
    for index, item in enumerate(request.line_items):
        if significant_places(item.quantity) > places:
            whole = "a whole number" if places == 0 else f"at most {places} decimal places"
            errors.append(
                FieldError(
                    f"line_items[{index}].quantity",
                    f"{item.quantity} has more decimal places than this provider keeps ({places})",
                    f"give {whole}; for a fraction of a unit, bill one unit at the "
                    "fraction's price",
                )
            )
        if item.tax_rate is not None and behaviour.tax_model is TaxModel.NO_TAX:
            errors.append(
                FieldError(
                    f"line_items[{index}].tax_rate",
                    f"this provider computes no tax, so the line's {item.tax_rate} % would not "
                    "be billed",
                    "leave tax_rate unset, or bill the tax as a line of its own",
                )
            )
    if behaviour.refuses_past_due_dates and request.due_date < today:
        errors.append(
            FieldError(
                "due_date",
                f"{request.due_date} is in the past (today is {today}); this provider refuses "
                "past due dates",
                "give today or a later date",
            )
        )
    if errors:
        raise ValidationError(errors)
