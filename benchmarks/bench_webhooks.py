"""Benchmark 4: the webhook endpoint under concurrent deliveries, over loopback and in-process.

Run: ``python benchmarks/bench_webhooks.py [--deliveries 200] [--repeat 5]``.

Each delivery is a Xero-shaped payload of one INVOICE UPDATE event, signed with the webhook key
(``x-xero-signature``), POSTed to ``/billing/xero/webhooks/``. ``--deliveries`` of them are sent
at once (one thread and connection each, released together by a barrier) to:

- the WSGI app (``WebhookWSGIApp``) served by ``contrib.webhooks.server.serve_wsgi`` (a
  threaded ``wsgiref`` server);
- the ASGI app (``WebhookASGIApp``) under uvicorn (one process, its default event loop).

The endpoint verifies, parses and acknowledges; the verified deliveries go to a queue (what
``BackgroundProcessor.submit`` does) and are not fetched here (benchmark 6 measures that).
Latency is from just before the send to the response; throughput is deliveries over the time
from the first send to the last response. In-process: ``WebhookEndpoint.answer`` alone.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from _common import percentile, spread, write_result

from ams_billing import BillingService
from ams_billing.contrib.webhooks import WebhookASGIApp, WebhookEndpoint, WebhookWSGIApp
from ams_billing.contrib.webhooks.server import serve_wsgi
from ams_billing.providers.xero import XeroBillingService
from ams_billing.providers.xero.emulator import EmulatorConfig, XeroEmulator
from ams_billing.providers.xero.testing import EMULATOR_BASE_URL, emulator_settings

PATH = "/billing/xero/webhooks/"


def make_endpoint() -> tuple[WebhookEndpoint, str, str, queue.SimpleQueue[Any]]:
    """An endpoint of our Xero provider; its key, tenant and the queue it hands deliveries to."""
    emulator = XeroEmulator(EmulatorConfig(rate_limits=False))
    settings = emulator_settings(emulator, EMULATOR_BASE_URL)
    service = BillingService(XeroBillingService(settings, transport=emulator.transport()))
    handed: queue.SimpleQueue[Any] = queue.SimpleQueue()
    endpoint = WebhookEndpoint(service, on_delivery=handed.put)
    return endpoint, emulator.config.webhook_key, emulator.config.tenant_id, handed


def delivery(key: str, tenant: str, sequence: int) -> tuple[bytes, dict[str, str]]:
    """A signed one-event INVOICE UPDATE delivery."""
    invoice_id = str(uuid.uuid4())
    body = json.dumps(
        {
            "events": [
                {
                    "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}",
                    "resourceId": invoice_id,
                    "eventDateUtc": "2026-07-01T00:00:00.000",
                    "eventType": "UPDATE",
                    "eventCategory": "INVOICE",
                    "tenantId": tenant,
                    "tenantType": "ORGANISATION",
                }
            ],
            "firstEventSequence": sequence,
            "lastEventSequence": sequence,
            "entropy": "BENCHMARKENTROPYXXXX",
        }
    ).encode()
    signature = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
    return body, {"x-xero-signature": signature, "content-type": "application/json"}


def concurrent_deliveries(base_url: str, key: str, tenant: str, count: int) -> dict[str, Any]:
    """Send ``count`` deliveries at once; latencies, statuses and throughput."""
    bodies = [delivery(key, tenant, i + 1) for i in range(count)]
    latencies: list[float] = [0.0] * count
    statuses: list[int | None] = [None] * count
    barrier = threading.Barrier(count + 1)
    ends: list[float] = [0.0] * count

    def send(index: int) -> None:
        body, headers = bodies[index]
        with httpx.Client(base_url=base_url, timeout=30.0) as client:
            barrier.wait()
            started = time.perf_counter()
            try:
                statuses[index] = client.post(PATH, content=body, headers=headers).status_code
            except httpx.HTTPError:
                statuses[index] = None
            ends[index] = time.perf_counter()
            latencies[index] = ends[index] - started

    threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    first = time.perf_counter()
    for thread in threads:
        thread.join(timeout=60)
    span = max(ends) - first
    return {
        "deliveries": count,
        "ok": sum(1 for s in statuses if s == 200),
        "failed": [s for s in statuses if s != 200][:5],
        "p50_seconds": percentile(latencies, 50),
        "p99_seconds": percentile(latencies, 99),
        "max_seconds": max(latencies),
        "throughput_per_second": count / span if span > 0 else None,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_uvicorn(app: Callable[..., Any]) -> Iterator[str]:
    """Serve an ASGI app under uvicorn on a loopback port, in a thread."""
    import uvicorn  # noqa: PLC0415

    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", backlog=2048
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def in_process(endpoint: WebhookEndpoint, key: str, tenant: str, count: int) -> list[float]:
    """Seconds per ``endpoint.answer`` (verify + parse + acknowledge), ``count`` times."""
    bodies = [delivery(key, tenant, i + 1) for i in range(count)]
    times = []
    for body, headers in bodies:
        started = time.perf_counter()
        status = endpoint.answer("POST", PATH, body, headers)
        times.append(time.perf_counter() - started)
        assert status == 200
    return times


def main() -> None:
    """Run the three measurements and write ``results/webhooks.json``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--in-process", type=int, default=5000)
    args = parser.parse_args()
    endpoint, key, tenant, _handed = make_endpoint()

    runs: dict[str, list[dict[str, Any]]] = {"wsgi": [], "asgi_uvicorn": []}
    with serve_wsgi(WebhookWSGIApp(endpoint)) as base_url:
        concurrent_deliveries(base_url, key, tenant, 10)  # warm up
        for _ in range(args.repeat):
            runs["wsgi"].append(concurrent_deliveries(base_url, key, tenant, args.deliveries))
    try:
        with serve_uvicorn(WebhookASGIApp(endpoint)) as base_url:
            concurrent_deliveries(base_url, key, tenant, 10)
            for _ in range(args.repeat):
                runs["asgi_uvicorn"].append(
                    concurrent_deliveries(base_url, key, tenant, args.deliveries)
                )
    except ImportError:
        runs.pop("asgi_uvicorn")
    for name, values in runs.items():
        for value in values:
            print(
                f"{name}: {value['ok']}/{value['deliveries']} ok, p50 "
                f"{value['p50_seconds'] * 1e3:.1f} ms, p99 {value['p99_seconds'] * 1e3:.1f} ms, "
                f"{value['throughput_per_second']:.0f}/s"
            )
    in_process(endpoint, key, tenant, 200)  # warm up
    p99s, p50s = [], []
    for _ in range(args.repeat):
        times = in_process(endpoint, key, tenant, args.in_process)
        p99s.append(percentile(times, 99))
        p50s.append(percentile(times, 50))
    print(f"in-process p50 {min(p50s) * 1e6:.0f} us, p99 {max(p99s) * 1e6:.0f} us")
    write_result(
        "webhooks",
        {
            "deliveries": args.deliveries,
            "runs": runs,
            "stats": {
                name: {
                    key_: spread([float(v[key_]) for v in values])
                    for key_ in (
                        "p50_seconds",
                        "p99_seconds",
                        "max_seconds",
                        "throughput_per_second",
                        "ok",
                    )
                }
                for name, values in runs.items()
            },
            "in_process": {
                "answers_per_run": args.in_process,
                "p50_seconds": spread(p50s),
                "p99_seconds": spread(p99s),
            },
        },
    )


if __name__ == "__main__":
    main()
