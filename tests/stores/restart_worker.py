"""One "process lifetime" of an AMS: load the service as production does, bill one member, exit.

Run as ``python restart_worker.py KEY``; the environment says which provider and where the state
lives (exactly as for a deployed AMS). Prints one JSON line: the invoice id and where the
service kept its state.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal

from ams_billing import Contact, InvoiceRequest, LineItem, load_service


def main(key: str) -> None:
    member = Contact("acct-restart", "Ada Lovelace", "ada@example.org")
    request = InvoiceRequest(
        contact=member,
        line_items=[LineItem("Annual membership", Decimal(1), Decimal("120.00"))],
        currency="NZD",
        issue_date=date(2026, 7, 1),
        due_date=date(2026, 7, 31),
        reference="MEMBERSHIP-RESTART",
    )
    with load_service() as billing:
        billing.create_contact(member, idempotency_key=f"contact:{key}")
        invoice = billing.create_invoice(request, idempotency_key=f"invoice:{key}")
        report = {
            "invoice_id": invoice.provider_id,
            "ledger": type(billing.provider.ledger).__name__,  # type: ignore[attr-defined]
            "state_store": type(billing.state_store).__name__,
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
