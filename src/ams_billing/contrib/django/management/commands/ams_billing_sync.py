"""``manage.py ams_billing_sync``: ``ams-billing sync`` through the project's Django service."""

from __future__ import annotations

from ams_billing.contrib.django.management.commands._cli import CliCommand

__all__ = ["Command"]


class Command(CliCommand):
    """Re-read invoices and tell the project's listeners what changed (resumable)."""

    help = "Re-read invoices and notify listeners of changes (ams-billing sync) through Django."
    cli_command = "sync"
