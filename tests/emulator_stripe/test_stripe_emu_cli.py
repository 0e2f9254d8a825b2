"""``ams-billing emulator --provider stripe`` in a real subprocess: read the exports, use them
with Stripe's SDK, stop it with SIGTERM (exit 0).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from stripe_emu_helpers import webhook_receiver

from ams_billing.emulators.stripe import DEFAULT_SECRET_KEY

stripe = pytest.importorskip("stripe")

STARTUP = 30.0


@contextmanager
def served(*options: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    command = [sys.executable, "-m", "ams_billing.cli", "emulator", "--provider", "stripe"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        [*command, *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)
            lines.put(None)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        printed: list[str] = []
        deadline = time.monotonic() + STARTUP
        try:
            while not printed or ("control surface" not in printed[-1] and "{" not in printed[-1]):
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                assert line is not None, f"the emulator exited: {printed}"
                printed.append(line)
            yield process, printed
        finally:
            if process.poll() is None:
                process.kill()
            reader.join(10)


def _exports(printed: list[str]) -> dict[str, str]:
    return dict(
        line.removeprefix("export ").strip().split("=", 1)
        for line in printed
        if line.startswith("export ")
    )


def test_it_prints_the_stripe_exports_and_serves_the_sdk() -> None:
    with served("--no-rate-limits") as (process, printed):
        env = _exports(printed)
        assert env["STRIPE_SECRET_KEY"] == DEFAULT_SECRET_KEY
        assert env["STRIPE_API_BASE"].startswith("http://127.0.0.1:")
        assert env["AMS_BILLING_SERVICE_CLASS"] == "stripe"
        assert "STRIPE_WEBHOOK_SECRET" not in env
        client = stripe.StripeClient(
            env["STRIPE_SECRET_KEY"], base_addresses={"api": env["STRIPE_API_BASE"]}
        )
        customer = client.v1.customers.create({"name": "From the CLI"})
        assert client.v1.customers.retrieve(customer.id).name == "From the CLI"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stderr is not None
        assert "stopping (SIGTERM)" in process.stderr.read()


def test_json_and_a_webhook_url_register_an_endpoint_that_receives_signed_events() -> None:
    with (
        webhook_receiver() as (url, received),
        served("--json", "--webhook-url", url, "--webhook-interval", "0.2") as (process, printed),
    ):
        document = json.loads(printed[-1])
        assert document["ok"] is True
        assert document["provider"] == "stripe"
        env = document["environment"]
        secret = env["STRIPE_WEBHOOK_SECRET"]
        assert secret.startswith("whsec_")
        client = stripe.StripeClient(
            env["STRIPE_SECRET_KEY"], base_addresses={"api": env["STRIPE_API_BASE"]}
        )
        endpoints = client.v1.webhook_endpoints.list().data
        assert [e.url for e in endpoints] == [url]
        client.v1.customers.create({"name": "Hooked"})
        deadline = time.monotonic() + 10
        while not received.deliveries and time.monotonic() < deadline:
            time.sleep(0.05)
        body, headers = received.deliveries[0]
        event = stripe.Webhook.construct_event(body, headers["stripe-signature"], secret)
        assert event.type == "customer.created"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_xero_only_options_are_refused_with_stripe() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ams_billing.cli", "emulator", "--provider", "stripe", "--granular"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--granular applies to --provider xero only" in result.stderr
