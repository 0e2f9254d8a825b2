"""The AMS's own rows, kept as the AMS keeps them, with its models loaded lazily.

The AMS's ``billing`` app holds ``Account``, ``Invoice`` and ``XeroContact``. They are looked up
through Django's app registry when first needed, so this module imports in any project.
An invoice row is written with ``save(update_fields=...)``, as the AMS's own service did, so
its ``post_save`` signal approves the membership when the invoice gains a paid date.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import transaction

from ams_billing.contrib.django.signals import invoice_changed
from ams_billing.core.models import Contact, Invoice

__all__ = [
    "AMS_APP_LABEL",
    "account_contact",
    "create_invoice_row",
    "latest_invoice_pk",
    "link_contact",
    "write_invoice_row",
]

AMS_APP_LABEL = "billing"
"""The app label of the AMS's ``ams.billing`` app."""

ROW_FIELDS = ("amount", "issue_date", "due_date", "paid", "due", "paid_date")
"""The invoice row's fields that follow the provider (the AMS's ``update_invoices`` set)."""


def model(name: str) -> Any:
    """One of the AMS's billing models (``Account``, ``Invoice``, ``XeroContact``)."""
    return apps.get_model(AMS_APP_LABEL, name)


def _contact(uuid: object, name: str, email: str | None, **names: str | None) -> Contact:
    # The AMS names contacts "<name> (<uuid>)": Xero wants contact names unique.
    return Contact(
        account_reference=str(uuid),
        name=f"{name or 'Member'} ({uuid})",
        email=email or None,
        **{key: value or None for key, value in names.items()},
    )


def user_contact(user: Any) -> Contact:
    """The contact of a person: the user's UUID is its account number, as in the AMS."""
    return _contact(
        user.uuid,
        user.get_full_name(),
        user.email,
        first_name=getattr(user, "first_name", None),
        last_name=getattr(user, "last_name", None),
    )


def organisation_contact(organisation: Any) -> Contact:
    """The contact of an organisation: its UUID is its account number, as in the AMS."""
    return _contact(organisation.uuid, organisation.name, organisation.email)


def account_contact(account: Any) -> Contact:
    """The contact of a billing account, for its user or its organisation."""
    if account.user_id:
        return user_contact(account.user)
    return organisation_contact(account.organisation)


def latest_invoice_pk(account: Any) -> Any:
    """The primary key of the account's latest invoice row, or None before its first."""
    return (
        model("Invoice")
        .objects.filter(account=account)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


def link_contact(account: Any, contact_id: str) -> None:
    """Record the provider's contact id for the account (``XeroContact``), once."""
    contacts = model("XeroContact").objects
    linked = contacts.filter(account=account).first()
    if linked is None:
        contacts.create(account=account, contact_id=contact_id)
    elif linked.contact_id != contact_id:
        linked.contact_id = contact_id
        linked.save(update_fields=["contact_id"])


def _row_values(invoice: Invoice, row: Any | None = None) -> dict[str, Any]:
    return {
        "amount": invoice.total,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date or (row.due_date if row is not None else invoice.issue_date),
        "paid": invoice.amount_paid,
        "due": invoice.amount_due,
        "paid_date": invoice.fully_paid_on,
    }


def create_invoice_row(account: Any, invoice: Invoice) -> Any:
    """The AMS's row for a provider invoice: created once, found again on a repeated call."""
    rows = model("Invoice").objects
    with transaction.atomic():
        row, _ = rows.get_or_create(
            billing_service_invoice_id=invoice.provider_id,
            defaults={
                "account": account,
                "invoice_number": invoice.number or invoice.provider_id,
                **{k: v for k, v in _row_values(invoice).items() if k != "paid_date"},
            },
        )
    return row


def write_invoice_row(invoice: Invoice) -> bool:
    """Bring the AMS's row for ``invoice`` up to date; true if anything changed.

    Only the changed fields are saved, so a repeat is a no-op and the AMS's ``post_save``
    receivers (membership approval) run once per real change.
    """
    row = model("Invoice").objects.filter(billing_service_invoice_id=invoice.provider_id).first()
    if row is None:
        return False
    values = _row_values(invoice, row)
    changed = [name for name in ROW_FIELDS if getattr(row, name) != values[name]]
    if not changed:
        return False
    for name in changed:
        setattr(row, name, values[name])
    row.save(update_fields=changed)
    return True


def _on_invoice_changed(sender: object, *, change: Any, **_: Any) -> None:
    if apps.is_installed("ams.billing"):
        write_invoice_row(change.invoice)


invoice_changed.connect(_on_invoice_changed, dispatch_uid="ams_billing.contrib.ams.rows")
