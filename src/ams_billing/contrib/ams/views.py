"""The AMS's webhook view, ``billing/xero/webhooks/``, run by ams-billing.

It answers as ams-billing's Django view does (200 to a verified delivery, Intent-to-Receive
included; 401 otherwise; an empty body) and processes the delivery after the response, so a
paid invoice marks its membership active within seconds. Before answering, it also marks the
AMS's rows for the invoices the delivery names as ``update_needed``, exactly as the AMS's own
view did: if this process dies before the delivery is processed, the AMS's
``fetch_invoice_updates`` job still finds them.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from ams_billing.contrib.ams import rows
from ams_billing.contrib.django.views import answer_webhook
from ams_billing.core.models import WebhookDelivery

__all__ = ["xero_webhooks"]


def _mark_for_update(delivery: WebhookDelivery) -> None:
    if delivery.invoice_ids:
        rows.model("Invoice").objects.filter(
            billing_service_invoice_id__in=delivery.invoice_ids
        ).update(update_needed=True, update_requested_at=timezone.now())


@csrf_exempt
def xero_webhooks(request: HttpRequest) -> HttpResponse:
    """Verify, mark the AMS's rows, answer, then process the delivery after the response."""
    return answer_webhook(request, on_delivery=_mark_for_update)
