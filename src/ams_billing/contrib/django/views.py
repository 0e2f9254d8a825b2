"""The webhook view: verify, answer at once, process after the response."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from ams_billing.contrib.django.processing import keep_delivery
from ams_billing.contrib.django.service import get_billing_service
from ams_billing.contrib.webhooks.request import DEFAULT_MAX_BODY_BYTES
from ams_billing.core.models import WebhookDelivery

__all__ = ["answer_webhook", "xero_webhook"]


@csrf_exempt
def xero_webhook(request: HttpRequest) -> HttpResponse:
    """Answer 200 to a verified delivery (Xero's Intent-to-Receive included), 401 otherwise.

    The body is empty and no cookie is set, as Xero requires. The delivery is kept (in the
    database when the app is installed) before the answer; the invoices it names are fetched
    after the response, by a thread, a task or ``manage.py ams_billing_drain``.
    """
    return answer_webhook(request)


def answer_webhook(
    request: HttpRequest, *, on_delivery: Callable[[WebhookDelivery], None] | None = None
) -> HttpResponse:
    """The webhook view's work; ``on_delivery`` sees a verified delivery before the answer."""
    if request.method != "POST":
        response = HttpResponse(status=405)
        response["Allow"] = "POST"
        return response
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:  # a malformed Content-Length: refuse it as the WSGI app does
        return HttpResponse(status=411)
    if length > DEFAULT_MAX_BODY_BYTES:
        return HttpResponse(status=413)
    verdict = get_billing_service().handle_webhook(request.body, request.headers)
    if verdict.delivery is not None and verdict.delivery.events:
        if on_delivery is not None:
            on_delivery(verdict.delivery)
        keep_delivery(verdict.delivery)
    response = HttpResponse(status=verdict.status)
    response["Cache-Control"] = "no-store"
    return response
