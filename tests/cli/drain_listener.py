"""A listener for the drain command's subprocess: appends each change to $DRAIN_RECORD."""

from __future__ import annotations

import json
import os

from ams_billing import InvoiceChange, hookimpl


class FileRecorder:
    """Writes one JSON line per change: the invoice id and the kind of change."""

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        with open(os.environ["DRAIN_RECORD"], "a", encoding="utf-8") as record:
            record.write(json.dumps([change.invoice.provider_id, change.kind.value]) + "\n")
