"""Provider-neutral billing models: frozen attrs classes, money as Decimal.

Requests (:class:`Contact`, :class:`InvoiceRequest`) are validated when they are built, and a
bad value raises :class:`~ams_billing.core.errors.ValidationError` naming the field. Results
(:class:`ContactRecord`, :class:`Invoice`, :class:`InvoiceEmailResult`, webhook events) are what
a provider reports, normalised so that an AMS never sees a provider's wire format.
"""

from __future__ import annotations

import enum
import re
import warnings
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from ams_billing.core.errors import ValidationError
from ams_billing.core.money import (
    MAX_AMOUNT,
    QUANTITY_PLACES,
    UNIT_AMOUNT_PLACES,
    check_magnitude,
    currency_places,
    quantize,
    significant_places,
    to_decimal,
    validate_currency_code,
)

__all__ = [
    "AmountType",
    "Capability",
    "ChangeKind",
    "Contact",
    "ContactRecord",
    "EmailSkipReason",
    "EventCategory",
    "EventType",
    "Invoice",
    "InvoiceChange",
    "InvoiceDefaults",
    "InvoiceEmailResult",
    "InvoiceLine",
    "InvoiceRequest",
    "InvoiceStatus",
    "LineItem",
    "WebhookDelivery",
    "WebhookEvent",
]

MAX_NAME_LENGTH = 255
MAX_REFERENCE_LENGTH = 255
MAX_ACCOUNT_REFERENCE_LENGTH = 50
MAX_DESCRIPTION_LENGTH = 4000
_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AmountType(enum.Enum):
    """Whether line amounts include tax (``INCLUSIVE``), exclude it (``EXCLUSIVE``) or bear none."""

    INCLUSIVE = "INCLUSIVE"
    EXCLUSIVE = "EXCLUSIVE"
    NO_TAX = "NO_TAX"


_DEPRECATED_STATUSES = {"SUBMITTED": "AWAITING_APPROVAL", "AUTHORISED": "OPEN", "VOIDED": "VOID"}
"""Xero's names the core used before it was neutral, by the neutral name that replaced them."""


class _InvoiceStatusType(enum.EnumType):
    """Serves the old status names (``InvoiceStatus.OPEN``) with a ``DeprecationWarning``."""

    def __getattr__(cls, name: str) -> Any:
        new_name = _DEPRECATED_STATUSES.get(name)
        if new_name is None:
            return super().__getattr__(name)  # type: ignore[misc]
        warnings.warn(
            f"InvoiceStatus.{name} is deprecated: it is now called InvoiceStatus.{new_name}; "
            f"the old name will be removed in a later release",
            DeprecationWarning,
            stacklevel=2,
        )
        return cls[new_name]


class InvoiceStatus(enum.Enum, metaclass=_InvoiceStatusType):
    """An invoice's status, in a vocabulary of no one provider (each maps its own onto it).

    ===================== ============== ================== ===================================
    core                  Xero           Stripe             meaning
    ===================== ============== ================== ===================================
    ``DRAFT``             DRAFT          draft              being prepared; nothing is owed
    ``AWAITING_APPROVAL`` SUBMITTED      (none)             waiting for someone to approve it
    ``OPEN``              AUTHORISED     open               issued; the amount due is owed
    ``PAID``              PAID           paid               fully paid
    ``VOID``              VOIDED         void               cancelled after it was issued
    ``UNCOLLECTIBLE``     (none)         uncollectible      written off as a bad debt
    ``DELETED``           DELETED        (draft deleted)    a draft that was thrown away
    ===================== ============== ================== ===================================

    The provider's own word is on :attr:`Invoice.provider_status`. The names the core used
    before (``SUBMITTED``, ``AUTHORISED``, ``VOIDED``) still work as attributes, with a
    ``DeprecationWarning``, and as stored values (``InvoiceStatus("AUTHORISED")`` is
    ``OPEN``, silently, so rows written by an older version keep reading).
    """

    DRAFT = "DRAFT"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    OPEN = "OPEN"
    PAID = "PAID"
    VOID = "VOID"
    UNCOLLECTIBLE = "UNCOLLECTIBLE"
    DELETED = "DELETED"

    @classmethod
    def _missing_(cls, value: object) -> InvoiceStatus | None:
        # A value stored before the names were neutral (a tracker row, a Django row).
        new_name = _DEPRECATED_STATUSES.get(value) if isinstance(value, str) else None
        return None if new_name is None else cls[new_name]


class Capability(enum.Enum):
    """An optional operation that a provider instance may or may not offer."""

    SEND_INVOICE = "send_invoice"
    VOID_INVOICE = "void_invoice"
    ONLINE_INVOICE_URL = "online_invoice_url"
    WEBHOOKS = "webhooks"
    CHANGED_SINCE = "changed_since"


class EmailSkipReason(enum.Enum):
    """Why an invoice email was not sent although nothing failed."""

    EMAILS_DISABLED = "emails_disabled"
    RECIPIENT_NOT_WHITELISTED = "recipient_not_whitelisted"
    NO_RECIPIENT = "no_recipient"


class EventCategory(enum.Enum):
    """What kind of resource a webhook event is about."""

    INVOICE = "INVOICE"
    CONTACT = "CONTACT"
    CREDIT_NOTE = "CREDITNOTE"
    OTHER = "OTHER"


class EventType(enum.Enum):
    """What happened to the resource."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    OTHER = "OTHER"


class ChangeKind(enum.Enum):
    """How an invoice changed, as told to listeners.

    ``WRITTEN_OFF``: the invoice became ``UNCOLLECTIBLE`` (Stripe's "mark uncollectible").
    """

    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    VOIDED = "voided"
    DELETED = "deleted"
    WRITTEN_OFF = "written_off"
    UPDATED = "updated"


def _text(max_length: int, *, required: bool = True) -> _Validator:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and not required:
            return
        if not isinstance(value, str):
            raise ValidationError.for_field(
                attribute.name, f"expected text, got {type(value).__name__}", "pass a str"
            )
        if required and not value.strip():
            raise ValidationError.for_field(attribute.name, "must not be empty", "give a value")
        if len(value) > max_length:
            raise ValidationError.for_field(
                attribute.name,
                f"is {len(value)} characters long; the limit is {max_length}",
                f"shorten it to {max_length} characters",
            )

    return check


def _email(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not _EMAIL.fullmatch(value) or len(value) > MAX_NAME_LENGTH:
        raise ValidationError.for_field(
            attribute.name, f"{value!r} is not an email address", "give an address like a@b.org"
        )


def _quantity(value: object) -> Decimal:
    return to_decimal(value, "quantity")


def _unit_amount(value: object) -> Decimal:
    return to_decimal(value, "unit_amount")


def _tax_rate(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, "tax_rate")


MAX_TAX_RATE = Decimal(100)
"""The largest line tax rate, in percent."""

TAX_RATE_PLACES = 4
"""Decimal places a line tax rate may have (``12.3456`` %)."""


@attrs.frozen
class Contact:
    """The person or organisation billed, as the AMS knows it.

    ``account_reference`` is the caller's own id for the billing account (AMS uses the account's
    UUID); providers key the contact on it, so calling ``create_contact`` again with the same
    reference updates the same contact instead of creating another.
    """

    account_reference: str = attrs.field(validator=_text(MAX_ACCOUNT_REFERENCE_LENGTH))
    name: str = attrs.field(validator=_text(MAX_NAME_LENGTH))
    email: str | None = attrs.field(default=None, validator=_email)
    first_name: str | None = attrs.field(
        default=None,
        validator=_text(MAX_NAME_LENGTH, required=False),
    )
    last_name: str | None = attrs.field(
        default=None,
        validator=_text(MAX_NAME_LENGTH, required=False),
    )


@attrs.frozen
class ContactRecord:
    """A contact as the provider holds it: its id there and the details it has on file."""

    provider_id: str
    account_reference: str | None
    name: str
    email: str | None = None


@attrs.frozen
class LineItem:
    """One line of an invoice request: what was sold, how many, at what unit price.

    ``unit_amount`` may be negative (a discount line) and may have up to four decimal places;
    ``quantity`` must not be negative. Neither may exceed
    :data:`~ams_billing.core.money.MAX_AMOUNT` (9,999,999,999.99) in magnitude, nor may the line
    amount of an :class:`InvoiceRequest`. ``account_code`` overrides the provider's default
    revenue account for this line.

    ``tax_rate`` is the percentage of tax applied to this line (``Decimal("15")`` for 15 %,
    0 to 100, up to four decimal places), whatever its account. ``None`` (the default) means
    the provider's own rule: for Xero and the fake, the rate of the line's revenue account. A
    provider declares what it does with a rate (:class:`~ams_billing.core.behaviour.TaxModel`):
    one that computes no tax (``NO_TAX``) has a line that names one refused with a
    ``ValidationError`` naming ``line_items[i].tax_rate``, never billed without it.
    """

    description: str = attrs.field(validator=_text(MAX_DESCRIPTION_LENGTH))
    quantity: Decimal = attrs.field(converter=_quantity)
    unit_amount: Decimal = attrs.field(converter=_unit_amount)
    account_code: str | None = attrs.field(
        default=None,
        validator=_text(10, required=False),
    )
    tax_rate: Decimal | None = attrs.field(default=None, converter=_tax_rate)

    @quantity.validator
    def _check_quantity(self, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
        if value < 0:
            raise ValidationError.for_field(
                "quantity",
                f"{value} is negative",
                "use a positive quantity; discount with a negative unit_amount instead",
            )
        check_magnitude(value, "quantity", "quantity")
        if significant_places(value) > QUANTITY_PLACES:
            raise ValidationError.for_field(
                "quantity",
                f"{value} has more than {QUANTITY_PLACES} decimal places",
                f"round it to {QUANTITY_PLACES} places",
            )

    @unit_amount.validator
    def _check_unit_amount(self, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
        check_magnitude(value, "unit_amount", "unit amount")
        if significant_places(value) > UNIT_AMOUNT_PLACES:
            raise ValidationError.for_field(
                "unit_amount",
                f"{value} has more than {UNIT_AMOUNT_PLACES} decimal places",
                f"round it to {UNIT_AMOUNT_PLACES} places",
            )

    @tax_rate.validator
    def _check_tax_rate(
        self, attribute: attrs.Attribute[Decimal | None], value: Decimal | None
    ) -> None:
        if value is None:
            return
        if not 0 <= value <= MAX_TAX_RATE:
            raise ValidationError.for_field(
                "tax_rate",
                f"{value} is not a percentage from 0 to {MAX_TAX_RATE}",
                "give the rate in percent (15 for 15 %), or None for the provider's own rule",
            )
        if significant_places(value) > TAX_RATE_PLACES:
            raise ValidationError.for_field(
                "tax_rate",
                f"{value} has more than {TAX_RATE_PLACES} decimal places",
                f"round it to {TAX_RATE_PLACES} places",
            )

    def line_amount(self, currency: str) -> Decimal:
        """``quantity * unit_amount`` rounded to the currency's precision, as Xero rounds it."""
        return quantize(self.quantity * self.unit_amount, currency_places(currency))


def _line_items(value: Sequence[LineItem]) -> tuple[LineItem, ...]:
    return tuple(value)


@attrs.frozen
class InvoiceDefaults:
    """What a provider puts in the fields an :class:`InvoiceRequest` leaves unset.

    A provider reports its defaults through the ``get_invoice_defaults`` hook
    (:attr:`~ams_billing.core.service.BillingService.invoice_defaults`); they are usually the
    operator's settings. ``amount_type`` applies to a request whose ``amount_type`` is
    ``None``; ``account_code`` to lines that name no account when the request names none
    either (``None``: the provider has no single default account). ``currency`` is the
    currency the provider bills in by default (a request always names its own).
    """

    amount_type: AmountType = attrs.field(validator=attrs.validators.instance_of(AmountType))
    currency: str = attrs.field()
    account_code: str | None = attrs.field(default=None, validator=_text(10, required=False))

    @currency.validator
    def _check_currency(self, attribute: object, value: str) -> None:
        validate_currency_code(value)

    def amount_type_for(self, request: InvoiceRequest) -> AmountType:
        """The amount type ``request`` is billed with: its own, else this default."""
        return self.amount_type if request.amount_type is None else request.amount_type

    def apply(self, request: InvoiceRequest) -> InvoiceRequest:
        """``request`` with every field it left unset set to these defaults."""
        return attrs.evolve(
            request,
            amount_type=self.amount_type_for(request),
            account_code=request.account_code or self.account_code,
        )


@attrs.frozen
class InvoiceRequest:
    """An invoice the AMS asks the provider to raise and approve.

    The provider resolves ``contact`` by its ``account_reference`` (creating the contact when
    it does not exist yet). ``account_code``, when given, applies to lines that name none.

    ``amount_type`` and ``account_code`` left unset (``None``, the default) mean *the
    provider's default*: the provider fills them from its :class:`InvoiceDefaults` (for Xero,
    the operator's settings) when it creates the invoice, and reports the value used on the
    :class:`Invoice`. A request that names them keeps them. The idempotency key remembers the
    request as sent, so a retry of the same request returns the invoice first created for it,
    even if the provider's defaults changed in between.
    """

    contact: Contact = attrs.field(validator=attrs.validators.instance_of(Contact))
    line_items: tuple[LineItem, ...] = attrs.field(converter=_line_items)
    currency: str = attrs.field()
    issue_date: date = attrs.field()
    due_date: date = attrs.field()
    reference: str | None = attrs.field(
        default=None,
        validator=_text(MAX_REFERENCE_LENGTH, required=False),
    )
    amount_type: AmountType | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs.validators.instance_of(AmountType)),
    )
    account_code: str | None = attrs.field(
        default=None,
        validator=_text(10, required=False),
    )

    @line_items.validator
    def _check_line_items(self, attribute: object, value: tuple[LineItem, ...]) -> None:
        if not value:
            raise ValidationError.for_field(
                "line_items", "an invoice needs at least one line", "add a LineItem"
            )
        for index, item in enumerate(value):
            if not isinstance(item, LineItem):
                raise ValidationError.for_field(
                    f"line_items[{index}]", f"expected a LineItem, got {type(item).__name__}"
                )

    @currency.validator
    def _check_currency(self, attribute: object, value: str) -> None:
        validate_currency_code(value)

    @issue_date.validator
    def _check_issue_date(self, attribute: object, value: date) -> None:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValidationError.for_field("issue_date", "expected a date", "pass datetime.date")

    @due_date.validator
    def _check_due_date(self, attribute: object, value: date) -> None:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValidationError.for_field("due_date", "expected a date", "pass datetime.date")
        if value < self.issue_date:
            raise ValidationError.for_field(
                "due_date",
                f"{value} is before the issue date {self.issue_date}",
                "set a due date on or after the issue date",
            )

    def __attrs_post_init__(self) -> None:
        for index, line in enumerate(self.line_items):
            amount = line.line_amount(self.currency)
            if amount.copy_abs() > MAX_AMOUNT:
                raise ValidationError.for_field(
                    f"line_items[{index}]",
                    f"quantity * unit_amount is {amount}, beyond the limit of ±{MAX_AMOUNT:,} "
                    "for a line amount",
                    f"split the line into lines of at most {MAX_AMOUNT:,} each",
                )
        total = sum((line.line_amount(self.currency) for line in self.line_items), Decimal(0))
        if total < 0:
            raise ValidationError.for_field(
                "line_items", f"the lines add up to {total}, below zero", "raise a credit note"
            )


@attrs.frozen
class InvoiceLine:
    """One line of an invoice as the provider reports it, with its computed amounts."""

    description: str
    quantity: Decimal
    unit_amount: Decimal
    line_amount: Decimal
    tax_amount: Decimal
    account_code: str | None = None


@attrs.frozen
class Invoice:
    """An invoice as the provider reports it.

    ``subtotal + total_tax == total`` and ``total - amount_paid == amount_due`` (credits aside;
    nothing is due on a VOID or DELETED invoice); ``fully_paid_on`` is set once the invoice is
    PAID; ``updated_at`` is timezone-aware UTC and orders successive reads of the same invoice.
    ``provider_status`` is the provider's own word for the status, as it sent it (Xero's
    ``"AUTHORISED"``, Stripe's ``"open"``), for display and support; code decides on ``status``.
    """

    provider_id: str
    number: str | None
    status: InvoiceStatus
    contact: ContactRecord
    currency: str
    issue_date: date
    due_date: date | None
    reference: str | None
    amount_type: AmountType
    subtotal: Decimal
    total_tax: Decimal
    total: Decimal
    amount_paid: Decimal
    amount_due: Decimal
    updated_at: datetime
    fully_paid_on: date | None = None
    line_items: tuple[InvoiceLine, ...] = ()
    online_url: str | None = None
    provider_status: str | None = None

    @property
    def is_paid(self) -> bool:
        """True once the invoice is fully paid."""
        return self.status is InvoiceStatus.PAID

    @property
    def is_partially_paid(self) -> bool:
        """True while something, but not everything, has been paid."""
        return self.status is InvoiceStatus.OPEN and self.amount_paid > 0


@attrs.frozen
class InvoiceEmailResult:
    """What happened when an invoice email was asked for.

    ``sent`` is false when a policy or the provider's configuration stopped the email; then
    ``skipped_reason`` says why. Failures raise instead.
    """

    invoice_id: str
    sent: bool
    recipient: str | None = None
    skipped_reason: EmailSkipReason | None = None


@attrs.frozen
class WebhookEvent:
    """One provider-neutral webhook event: something happened to one resource.

    Most events are thin (as Xero's are): processing reads the resource to learn its state.
    A provider whose deliveries carry the object's state (Stripe's snapshot events; it
    declares ``snapshot_events``) puts the invoice as it was at the event in ``snapshot``, and
    processing uses it instead of a read. ``snapshot`` must be the invoice the event names.
    """

    category: EventCategory
    event_type: EventType
    resource_id: str
    occurred_at: datetime
    tenant_id: str | None = None
    resource_url: str | None = None
    snapshot: Invoice | None = attrs.field(default=None)

    @snapshot.validator
    def _check_snapshot(self, attribute: attrs.Attribute[Invoice | None], value: object) -> None:
        if value is None:
            return
        if self.category is not EventCategory.INVOICE or not isinstance(value, Invoice):
            raise ValidationError.for_field(
                "snapshot", "is only for invoice events, and must be an Invoice", "leave it None"
            )
        if value.provider_id != self.resource_id:
            raise ValidationError.for_field(
                "snapshot",
                f"is invoice {value.provider_id!r}, not the event's {self.resource_id!r}",
                "give the state of the invoice the event names",
            )


@attrs.frozen
class WebhookDelivery:
    """A verified webhook delivery: its events and the sequence numbers the provider gave it.

    A delivery may have no events (Xero's Intent-to-Receive check, for a provider that
    declares ``intent_to_receive``): it is answered 200 and there is nothing to process.
    """

    events: tuple[WebhookEvent, ...]
    first_sequence: int | None = None
    last_sequence: int | None = None

    @property
    def invoice_ids(self) -> tuple[str, ...]:
        """The distinct ids of the invoices the events are about, in first-seen order."""
        seen = dict.fromkeys(
            event.resource_id for event in self.events if event.category is EventCategory.INVOICE
        )
        return tuple(seen)


@attrs.frozen
class InvoiceChange:
    """A change in an invoice that listeners are told about once (at least once across a crash)."""

    invoice: Invoice
    previous_status: InvoiceStatus | None
    kind: ChangeKind
    previous_amount_paid: Decimal | None = None
