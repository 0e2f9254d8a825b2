"""Benchmark 6: from a payment in Xero to "paid" in the application, and refresh throughput.

Run: ``python benchmarks/bench_paid.py [--payments 40] [--many 6000] [--scale 60]``.

**Payment to paid** (real clock, Xero's limits on): the emulator and the application's WSGI
webhook endpoint (``serve_wsgi``, ``BackgroundProcessor``) each on a loopback port; our provider
over HTTP. For each invoice: ``emulator.record_payment`` (t0), the emulator delivers its
signed webhook to the endpoint over HTTP (as Xero would, without Xero's own delay), the endpoint
verifies and acknowledges, the processor fetches the invoice (``GET /Invoices?IDs=``) and the
listener hears PAID (t1). Reported: t1 - t0.

**Many at once** (Xero's limits on, clock ``--scale`` times real time): ``--many`` invoices are
paid together, then either

- ``webhook_path``: the emulator delivers its webhooks (10 events a payload, its default) to the
  endpoint and the processor refreshes each delivery's invoices (one read per delivery), or
- ``batched_reads``: ``BillingService.sync_invoices(all ids)`` (50 ids a read),

and the refreshes per Xero minute are ``n / (T + 1 minute)``: the last window is charged a full
minute, so the free first minute does not inflate the rate. The public AMS's cron refreshes at
most 25 invoices every 15 minutes (100 an hour, 1.7 a minute).
"""

from __future__ import annotations

import argparse
import threading
import time
from decimal import Decimal
from typing import Any

from _common import (
    batch_items,
    limit_hits,
    member_requests,
    percentile,
    scaled_emulator,
    served,
    spread,
    write_result,
)

from ams_billing import BillingService, InvoiceChange, hookimpl
from ams_billing.contrib.webhooks import WebhookEndpoint, WebhookWSGIApp
from ams_billing.contrib.webhooks.server import serve_wsgi
from ams_billing.core.inbox import InMemoryWebhookInbox
from ams_billing.core.webhooks import BackgroundProcessor
from ams_billing.emulators.xero import XeroEmulator
from ams_billing.emulators.xero.harness import EMULATOR_BASE_URL, emulator_settings
from ams_billing.providers.xero import XeroProvider

PATH = "/billing/xero/webhooks/"


class PaidListener:
    """Remembers when each invoice was first reported paid."""

    def __init__(self) -> None:
        self.paid_at: dict[str, float] = {}
        self.condition = threading.Condition()

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        """Record the moment the application hears an invoice is paid."""
        if change.invoice.status.value == "PAID":
            with self.condition:
                self.paid_at.setdefault(change.invoice.provider_id, time.perf_counter())
                self.condition.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` invoices are paid."""
        with self.condition:
            return self.condition.wait_for(lambda: len(self.paid_at) >= count, timeout=timeout)


def _seed(emulator: XeroEmulator, count: int, scale: float, prefix: str) -> list[tuple[str, Any]]:
    settings = emulator_settings(emulator, EMULATOR_BASE_URL, rate_limit_time_scale=scale)
    with XeroProvider(settings, transport=emulator.transport()) as provider:
        results = BillingService(provider).create_invoices(
            batch_items(member_requests(count, prefix=prefix))
        )
        return [(r.unwrap().provider_id, r.unwrap().amount_due) for r in results]


def _application(
    emulator: XeroEmulator, base_url: str, scale: float
) -> tuple[BillingService, PaidListener, BackgroundProcessor]:
    listener = PaidListener()
    settings = emulator_settings(emulator, base_url, rate_limit_time_scale=scale, timeout=60.0)
    service = BillingService(XeroProvider(settings), listeners=[listener])
    # In memory, chosen: the figure is the processing's, not a database's.
    return (
        service,
        listener,
        BackgroundProcessor(service, inbox=InMemoryWebhookInbox(), max_pending=10_000),
    )


def payment_to_paid(payments: int) -> dict[str, Any]:
    """Real clock: ``payments`` payments, one at a time, each timed until the listener hears."""
    emulator = scaled_emulator(1.0)
    invoices = _seed(emulator, payments, 1.0, "paid")
    with served(emulator) as base_url:
        service, listener, processor = _application(emulator, base_url, 1.0)
        endpoint = WebhookEndpoint(service, on_delivery=processor.submit, path=PATH)
        with serve_wsgi(WebhookWSGIApp(endpoint)) as app_url:
            emulator.set_webhook_target(app_url + PATH)
            latencies = []
            for index, (invoice_id, due) in enumerate(invoices):
                started = time.perf_counter()
                emulator.record_payment(invoice_id, Decimal(due))
                emulator.deliver_webhooks()
                if not listener.wait_for(index + 1, timeout=30):
                    raise RuntimeError(f"invoice {invoice_id} never reported paid")
                latencies.append(listener.paid_at[invoice_id] - started)
        processor.close()
    return {
        "payments": payments,
        "p50_seconds": percentile(latencies, 50),
        "p99_seconds": percentile(latencies, 99),
        "max_seconds": max(latencies),
        "status_429": limit_hits(emulator),
        "latencies": latencies,
    }


def many_at_once(count: int, scale: float, path: str) -> dict[str, Any]:
    """``count`` invoices paid at once, refreshed through ``path``; refreshes per Xero minute."""
    emulator = scaled_emulator(scale)
    invoices = _seed(emulator, count, scale, f"many-{path}")
    time.sleep(61 / scale)  # a fresh minute window after seeding
    for invoice_id, due in invoices:
        emulator.record_payment(invoice_id, Decimal(due))
    before = len(emulator.calls)
    with served(emulator) as base_url:
        service, listener, processor = _application(emulator, base_url, scale)
        if path == "webhook_path":
            endpoint = WebhookEndpoint(service, on_delivery=processor.submit, path=PATH)
            with serve_wsgi(WebhookWSGIApp(endpoint)) as app_url:
                emulator.set_webhook_target(app_url + PATH)
                started = time.perf_counter()
                emulator.deliver_webhooks()
                listener.wait_for(count, timeout=600)
                seconds = time.perf_counter() - started
        else:
            started = time.perf_counter()
            service.sync_invoices([invoice_id for invoice_id, _ in invoices])
            seconds = time.perf_counter() - started
        processor.close()
    calls = emulator.calls[before:]
    xero_minutes = seconds * scale / 60
    return {
        "path": path,
        "invoices": count,
        "refreshed_paid": len(listener.paid_at),
        "reads": sum(1 for c in calls if c.endpoint == "GET /Invoices"),
        "status_429": sum(1 for c in calls if c.status == 429),
        "real_seconds": seconds,
        "xero_minutes": xero_minutes,
        "refreshes_per_xero_minute": len(listener.paid_at) / (xero_minutes + 1),
    }


def main() -> None:
    """Run both measurements and write ``results/paid.json``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=40)
    parser.add_argument("--many", type=int, default=6000)
    parser.add_argument("--scale", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    paid = payment_to_paid(args.payments)
    print(
        f"payment to paid: p50 {paid['p50_seconds'] * 1e3:.1f} ms, p99 "
        f"{paid['p99_seconds'] * 1e3:.1f} ms ({args.payments} payments, real clock)"
    )
    many: dict[str, list[dict[str, Any]]] = {"batched_reads": [], "webhook_path": []}
    for _ in range(args.repeat):
        for path in many:  # noqa: PLC0206 - appends to many[path]
            result = many_at_once(args.many, args.scale, path)
            many[path].append(result)
            print(
                f"{path}: {result['refreshed_paid']}/{args.many} paid in {result['reads']} reads, "
                f"{result['status_429']} x 429, {result['xero_minutes']:.2f} Xero min: "
                f"{result['refreshes_per_xero_minute']:.0f} refreshes/Xero minute"
            )
    write_result(
        "paid",
        {
            "payment_to_paid": paid,
            "many_at_once": {
                "scale": args.scale,
                "runs": many,
                "stats": {
                    path: spread([r["refreshes_per_xero_minute"] for r in values])
                    for path, values in many.items()
                },
            },
            "ams_cron_per_minute": 25 / 15,
        },
    )


if __name__ == "__main__":
    main()
