"""``manage.py ams_billing_check``: ``ams-billing check`` on the project's Django settings."""

from __future__ import annotations

from ams_billing.contrib.django.management.commands._cli import CliCommand

__all__ = ["Command"]


class Command(CliCommand):
    """Self-test the billing configuration against Xero, each failure with its fix."""

    help = "Self-test the billing configuration (ams-billing check) on Django's settings."
    cli_command = "check"
