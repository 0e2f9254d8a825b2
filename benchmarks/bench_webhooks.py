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
from the first send to the last response.

In-process, in one run and interleaved delivery by delivery: a bare HMAC, HMAC +
``json.loads``, our verify, our verify + ``wire.loads``, our parse alone,
``verify_and_parse``, the service's ``parse_webhook`` and ``handle_webhook`` (through pluggy's
hook call), and ``WebhookEndpoint.answer``; the wall and CPU time of each, then a cProfile of
``answer``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import queue
import socket
import statistics
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
from ams_billing.emulators.xero import EmulatorConfig, XeroEmulator
from ams_billing.emulators.xero.harness import EMULATOR_BASE_URL, emulator_settings
from ams_billing.providers.xero import XeroProvider

PATH = "/billing/xero/webhooks/"


def make_endpoint() -> tuple[WebhookEndpoint, str, str, queue.SimpleQueue[Any]]:
    """An endpoint of our Xero provider; its key, tenant and the queue it hands deliveries to."""
    emulator = XeroEmulator(EmulatorConfig(rate_limits=False))
    settings = emulator_settings(emulator, EMULATOR_BASE_URL)
    service = BillingService(XeroProvider(settings, transport=emulator.transport()))
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


def _layers(endpoint: WebhookEndpoint, key: str, tenant: str) -> dict[str, Callable[..., Any]]:
    """Each step of answering a delivery, from a bare HMAC up to ``WebhookEndpoint.answer``."""
    from ams_billing.core.signing import header_value, signature_matches  # noqa: PLC0415
    from ams_billing.providers.xero import wire  # noqa: PLC0415
    from ams_billing.providers.xero.settings import Secret  # noqa: PLC0415
    from ams_billing.providers.xero.webhooks import (  # noqa: PLC0415
        SIGNATURE_HEADER,
        parse_delivery,
        verify_and_parse,
    )

    raw_key = key.encode()
    secret = Secret(key)
    service = endpoint.service

    def bare_hmac(body: bytes, headers: dict[str, str]) -> None:
        digest = hmac.new(raw_key, body, hashlib.sha256).digest()
        hmac.compare_digest(base64.b64encode(digest), headers["x-xero-signature"].encode())

    def hmac_json(body: bytes, headers: dict[str, str]) -> None:
        bare_hmac(body, headers)
        json.loads(body)

    def our_verify(body: bytes, headers: dict[str, str]) -> None:
        signature_matches(body, header_value(headers, SIGNATURE_HEADER), key)

    def our_verify_loads(body: bytes, headers: dict[str, str]) -> None:
        our_verify(body, headers)
        wire.loads(body)

    def our_parse_only(body: bytes, headers: dict[str, str]) -> None:
        parse_delivery(body, tenant)

    return {
        "bare_hmac": bare_hmac,
        "hmac_json_loads": hmac_json,
        "our_verify": our_verify,
        "our_verify_json_loads": our_verify_loads,
        "our_parse_only": our_parse_only,
        "verify_and_parse": lambda body, headers: verify_and_parse(body, headers, secret, tenant),
        "service_parse_webhook": service.parse_webhook,
        "service_handle_webhook": service.handle_webhook,
        "endpoint_answer": lambda body, headers: endpoint.answer("POST", PATH, body, headers),
    }


def in_process(endpoint: WebhookEndpoint, key: str, tenant: str, count: int) -> dict[str, Any]:
    """Each layer ``count`` times, interleaved delivery by delivery (so load hits all alike).

    Wall time (``perf_counter``) and this thread's CPU time (``thread_time``) of each call:
    where wall p99 is far above CPU p99, the thread was waiting for a core, not working.
    """
    layers = _layers(endpoint, key, tenant)
    bodies = [delivery(key, tenant, i + 1) for i in range(count)]
    wall: dict[str, list[float]] = {name: [] for name in layers}
    cpu: dict[str, list[float]] = {name: [] for name in layers}
    for body, headers in bodies[: min(200, count)]:  # warm up
        for step in layers.values():
            step(body, headers)
    load_before = os.getloadavg()
    for body, headers in bodies:
        for name, step in layers.items():
            started, cpu_started = time.perf_counter(), time.thread_time()
            step(body, headers)
            cpu[name].append(time.thread_time() - cpu_started)
            wall[name].append(time.perf_counter() - started)
    return {
        "answers_per_layer": count,
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "layers": {
            name: {
                "wall_p50_seconds": percentile(wall[name], 50),
                "wall_p99_seconds": percentile(wall[name], 99),
                "wall_max_seconds": max(wall[name]),
                "cpu_p50_seconds": percentile(cpu[name], 50),
                "cpu_p99_seconds": percentile(cpu[name], 99),
            }
            for name in layers
        },
    }


def profile_answer(endpoint: WebhookEndpoint, key: str, tenant: str, count: int) -> list[str]:
    """Profile ``count`` ``endpoint.answer`` calls (cProfile): the top functions by own time."""
    import cProfile  # noqa: PLC0415
    import io  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    bodies = [delivery(key, tenant, i + 1) for i in range(count)]
    profiler = cProfile.Profile()
    profiler.enable()
    for body, headers in bodies:
        endpoint.answer("POST", PATH, body, headers)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    return [line for line in out.getvalue().splitlines() if line.strip()][-16:]


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
    layered = [in_process(endpoint, key, tenant, args.in_process) for _ in range(args.repeat)]
    for name in layered[0]["layers"]:
        p50 = statistics.median(run["layers"][name]["wall_p50_seconds"] for run in layered)
        p99 = statistics.median(run["layers"][name]["wall_p99_seconds"] for run in layered)
        print(f"in-process {name}: p50 {p50 * 1e6:.1f} us, p99 {p99 * 1e6:.1f} us")
    profile = profile_answer(endpoint, key, tenant, min(args.in_process, 3000))
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
                "answers_per_layer": args.in_process,
                "runs": layered,
                "stats": {
                    name: {
                        stat: spread([run["layers"][name][stat] for run in layered])
                        for stat in layered[0]["layers"][name]
                    }
                    for name in layered[0]["layers"]
                },
                "profile_of_answer": profile,
            },
        },
    )


if __name__ == "__main__":
    main()
