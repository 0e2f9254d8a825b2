"""How a keyed ``send_invoice`` result is kept in the idempotency ledger and replayed.

An email result, unlike a contact or an invoice, is an event that happened once: a replayed key
answers what the first send did (sent to this address, or skipped for want of one), never a
new read. Every provider keeps it the same way, so the ledger's rows read the same whichever
provider wrote them.
"""

from __future__ import annotations

from ams_billing.core.idempotency import Outcome, OutcomeCodec
from ams_billing.core.ledger import IdempotencyRecord
from ams_billing.core.models import EmailSkipReason, InvoiceEmailResult

__all__ = ["SKIPPED", "email_result_codec"]

SKIPPED = "skipped"
"""The ledger's ``result`` for a send skipped because the contact has no email address."""


def _keep(result: InvoiceEmailResult) -> Outcome:
    return Outcome("sent", result.recipient) if result.sent else Outcome(SKIPPED)


def email_result_codec(invoice_id: str) -> OutcomeCodec[InvoiceEmailResult]:
    """The codec for ``send_invoice`` on ``invoice_id``: keep sent-to or skipped, replay it."""

    def replay(record: IdempotencyRecord) -> InvoiceEmailResult:
        if record.result == SKIPPED:
            return InvoiceEmailResult(
                invoice_id, sent=False, skipped_reason=EmailSkipReason.NO_RECIPIENT
            )
        return InvoiceEmailResult(invoice_id, sent=True, recipient=record.detail)

    return OutcomeCodec(_keep, replay)
