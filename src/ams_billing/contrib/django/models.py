"""The tables behind the Django stores: idempotency records, invoice snapshots, the inbox.

Each is written and read only through :mod:`ams_billing.contrib.django.stores`; the models are
public so that an operator can look at them (the admin, ``manage.py dbshell``) and prune them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import models

__all__ = ["IdempotencyRecordRow", "InboxEntryRow", "InvoiceSnapshotRow"]


class IdempotencyRecordRow(models.Model):
    """One idempotency key of the Xero provider and what it was used for."""

    key: models.CharField[str, str] = models.CharField(max_length=255, primary_key=True)
    operation: models.CharField[str, str] = models.CharField(max_length=64)
    fingerprint: models.CharField[str, str] = models.CharField(max_length=128)
    state: models.CharField[str, str] = models.CharField(max_length=16)
    result: models.TextField[str | None, str | None] = models.TextField(null=True, blank=True)
    detail: models.TextField[str | None, str | None] = models.TextField(null=True, blank=True)
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now_add=True)
    updated_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now=True)

    class Meta:
        """The table."""

        app_label = "ams_billing"
        db_table = "ams_billing_idempotency_record"
        verbose_name = "idempotency record"

    def __str__(self) -> str:
        return f"{self.operation} {self.state}"


class InvoiceSnapshotRow(models.Model):
    """The last state seen of one invoice: the tracker's memory."""

    invoice_id: models.CharField[str, str] = models.CharField(max_length=255, primary_key=True)
    status: models.CharField[str, str] = models.CharField(max_length=32)
    amount_paid: models.DecimalField[Decimal, Decimal] = models.DecimalField(
        max_digits=19, decimal_places=4
    )
    updated_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()
    version: models.PositiveBigIntegerField[int, int] = models.PositiveBigIntegerField(default=1)
    """Raised by each write: databases without row locks (SQLite) compare-and-set on it."""

    class Meta:
        """The table."""

        app_label = "ams_billing"
        db_table = "ams_billing_invoice_snapshot"
        verbose_name = "invoice snapshot"

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.status}"


class InboxEntryRow(models.Model):
    """One verified webhook delivery, kept until its listeners have been told."""

    id: models.BigAutoField[int, int] = models.BigAutoField(primary_key=True)
    entry_id: models.CharField[str, str] = models.CharField(max_length=32, unique=True)
    delivery: models.JSONField[Any, Any] = models.JSONField()
    """The :class:`~ams_billing.core.models.WebhookDelivery`, unstructured by the core's
    converter."""
    received_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()
    leased_until: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )
    attempts: models.PositiveIntegerField[int, int] = models.PositiveIntegerField(default=0)
    done: models.BooleanField[bool, bool] = models.BooleanField(default=False)
    done_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )

    class Meta:
        """The table."""

        app_label = "ams_billing"
        db_table = "ams_billing_inbox_entry"
        verbose_name = "webhook inbox entry"
        verbose_name_plural = "webhook inbox entries"
        indexes = [models.Index(fields=["done", "id"], name="ams_billing_inbox_todo")]  # noqa: RUF012

    def __str__(self) -> str:
        return f"{self.entry_id} {'done' if self.done else 'pending'}"
