"""``manage.py ams_billing_drain``: process the webhook inbox until nothing is left to take."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ams_billing.contrib.django.service import get_billing_service
from ams_billing.contrib.django.stores import DjangoWebhookInbox
from ams_billing.core.webhooks import (
    DEFAULT_LEASE_SECONDS,
    MAX_COALESCED,
    drain_inbox,
)

__all__ = ["Command"]


class Command(BaseCommand):
    """Process the deliveries the inbox holds (for cron, or a worker's loop).

    Entries another worker holds are left to it. Stops at the first failed batch, whose
    entries wait for the next run; exits 1 then, 0 otherwise.
    """

    help = "Process the webhook deliveries waiting in the inbox; exit 1 if a batch failed."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """The options."""
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")
        parser.add_argument(
            "--batch", type=int, default=MAX_COALESCED, help="entries read together (200)"
        )
        parser.add_argument(
            "--lease-seconds",
            type=float,
            default=DEFAULT_LEASE_SECONDS,
            help="how long a claimed entry is held before another worker may take it (300)",
        )

    def handle(self, *args: str, **options: Any) -> None:
        """Drain, print the counts, fail if a batch failed."""
        inbox = DjangoWebhookInbox()
        result = drain_inbox(
            get_billing_service(),
            inbox,
            batch=options["batch"],
            lease_seconds=options["lease_seconds"],
        )
        counts = {
            "processed": result.processed,
            "failed": result.failed,
            "pending": inbox.pending(),
        }
        if options["json"]:
            self.stdout.write(json.dumps(counts))
        else:
            self.stdout.write(
                f"processed {counts['processed']}, failed {counts['failed']}, "
                f"pending {counts['pending']}"
            )
        if result.failed:
            raise CommandError(
                "a batch failed; its entries stay in the inbox for the next run", returncode=1
            )
