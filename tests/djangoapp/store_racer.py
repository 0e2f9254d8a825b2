"""A worker process for the concurrency tests: claims from the inbox, or races put_if_newer.

``python store_racer.py claim GO_FILE`` claims four entries at a time until none is left and
prints the ids it got (JSON). ``python store_racer.py states GO_FILE FIRST STEP COUNT`` stores
snapshots of invoice ``race`` stamped T0 + FIRST, FIRST + STEP ... seconds and prints what each
write replaced (or null when stale). Both start when GO_FILE exists, so they really overlap.
Settings: worker_settings (``DJANGO_SETTINGS_MODULE``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import django

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "worker_settings")
    django.setup()
    from ams_billing.contrib.django.stores import DjangoInvoiceStateStore, DjangoWebhookInbox
    from ams_billing.core.models import InvoiceStatus
    from ams_billing.core.tracking import InvoiceSnapshot, StaleRead

    mode, go = argv[0], argv[1]
    deadline = time.monotonic() + 60
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            sys.exit("never told to go")
        time.sleep(0.005)
    out: list[object] = []
    if mode == "claim":
        inbox = DjangoWebhookInbox()
        while time.monotonic() < deadline:
            entries = inbox.claim(4, lease_seconds=300)
            if not entries:
                break
            out.extend(entry.entry_id for entry in entries)
    else:
        first, step, count = (int(value) for value in argv[2:5])
        store = DjangoInvoiceStateStore()
        for n in range(count):
            seconds = first + n * step
            snapshot = InvoiceSnapshot(
                InvoiceStatus.OPEN, Decimal(seconds), T0 + timedelta(seconds=seconds)
            )
            try:
                previous = store.put_if_newer("race", snapshot)
            except StaleRead:
                out.append([seconds, "stale"])
            else:
                replaced = None if previous is None else int(previous.amount_paid)
                out.append([seconds, replaced])
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
