"""The AMS's webhook views, ``billing/xero/webhooks/`` and ``billing/stripe/webhooks/``.

Each answers as ams-billing's Django view does (2xx to a verified delivery, Xero's
Intent-to-Receive included; 4xx to a refused one, never 5xx; an empty body) and processes the
delivery after the response, so a paid invoice marks its membership active within seconds.
Before answering, it keeps the delivery in the inbox (the AMS's database): if this process dies
before the delivery is processed, ``manage.py ams_billing_drain`` (or the next worker) does it.

The Xero route also marks the AMS's rows for the invoices the delivery names as
``update_needed`` before answering, exactly as the AMS's own view did, so the AMS's
``fetch_invoice_updates`` job finds them too. The Stripe route does not: that job serves only
Xero (it checks ``isinstance(service, XeroBillingService)``), so nothing would ever clear the
mark; for Stripe the safety nets are the durable inbox and ``manage.py ams_billing_sync``.

One AMS bills through one provider (its ``BILLING_SERVICE_CLASS``): a route answers
:data:`OTHER_PROVIDER_STATUS` when that provider is not the route's, so a delivery is never
verified, kept or processed by a provider it was not meant for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from ams_billing.assembly.loading import resolve_provider_class
from ams_billing.contrib.ams import rows
from ams_billing.contrib.django.service import get_billing_service
from ams_billing.contrib.django.views import answer_webhook
from ams_billing.core.models import WebhookDelivery

__all__ = ["OTHER_PROVIDER_STATUS", "ROUTE_PROVIDERS", "stripe_webhooks", "xero_webhooks"]

OTHER_PROVIDER_STATUS = 421
"""Misdirected Request: the AMS bills through another provider than the route's. Not 404: the
AMS's ``LocaleMiddleware`` turns a 404 on a path without a language prefix into a redirect to
``/en/...`` (its Wagtail pages match any path), and a sender must see a plain refusal."""

ROUTE_PROVIDERS: dict[str, tuple[str, ...]] = {
    "xero": ("xero", "fake"),  # the fake: the AMS's MockXeroBillingService, in its tests
    "stripe": ("stripe",),
}
"""Each webhook route → the providers whose deliveries it takes."""


@functools.cache
def _provider_classes(route: str) -> tuple[type, ...]:
    return tuple(resolve_provider_class(name) for name in ROUTE_PROVIDERS[route])


def _mark_for_update(delivery: WebhookDelivery) -> None:
    if delivery.invoice_ids:
        rows.model("Invoice").objects.filter(
            billing_service_invoice_id__in=delivery.invoice_ids
        ).update(update_needed=True, update_requested_at=timezone.now())


def _answer(
    route: str,
    request: HttpRequest,
    on_delivery: Callable[[WebhookDelivery], None] | None = None,
) -> HttpResponse:
    if not isinstance(get_billing_service().provider, _provider_classes(route)):
        return HttpResponse(status=OTHER_PROVIDER_STATUS)
    return answer_webhook(request, on_delivery=on_delivery)


@csrf_exempt
def xero_webhooks(request: HttpRequest) -> HttpResponse:
    """Xero's deliveries: verify, keep, mark the AMS's rows, answer, then process."""
    return _answer("xero", request, _mark_for_update)


@csrf_exempt
def stripe_webhooks(request: HttpRequest) -> HttpResponse:
    """Stripe's deliveries (``Stripe-Signature``): verify, keep, answer, then process."""
    return _answer("stripe", request)
