"""Django signals sent when an invoice changes, and the listener that sends them."""

from __future__ import annotations

from django.dispatch import Signal

from ams_billing.core.hookspecs import hookimpl
from ams_billing.core.models import InvoiceChange

__all__ = ["SignalListener", "invoice_changed"]

invoice_changed = Signal()
"""Sent once per real invoice change; keyword arguments ``change`` (an InvoiceChange),
``invoice`` and ``kind`` (a ChangeKind: paid, partially_paid, voided …)."""


class SignalListener:
    """A billing listener that turns ``invoice_changed`` hooks into the Django signal."""

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        """Send the Django signal."""
        invoice_changed.send(
            sender=self.__class__, change=change, invoice=change.invoice, kind=change.kind
        )
