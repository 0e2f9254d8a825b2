"""``ams-billing webhooks drain``: another process finishes what a web process kept.

A delivery is kept in an SQLite inbox as the endpoint keeps it before its 200, and the process
that kept it is gone. The command, a real subprocess, reads the invoice from the emulator over
loopback, tells the listener, and empties the inbox; a second run finds nothing to do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from ams_billing import (
    Contact,
    EventCategory,
    EventType,
    InvoiceRequest,
    LineItem,
    WebhookDelivery,
    WebhookEvent,
    load_service,
)
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    XeroEmulator,
    provider_environment,
    serve_emulator,
)

HERE = Path(__file__).parent


def _drain(
    environ: dict[str, str], record: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **environ, "DRAIN_RECORD": str(record), "PYTHONPATH": str(HERE)}
    return subprocess.run(
        [sys.executable, "-m", "ams_billing.cli", "webhooks", "drain", "--json",
         "--listener", "drain_listener:FileRecorder", *options],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_kept_delivery_is_processed_by_the_drain_command(tmp_path: Path) -> None:
    config = EmulatorConfig(rate_limits=False)
    emulator = XeroEmulator(config, clock=EmulatorClock.real())
    url = f"sqlite:///{tmp_path / 'billing.sqlite3'}"
    record = tmp_path / "changes.jsonl"
    with serve_emulator(emulator) as server:
        environ = {
            **provider_environment(config, server.base_url, database_url=url),
        }
        billing = load_service(environ=environ)  # the web process
        invoice = billing.create_invoice(
            InvoiceRequest(
                contact=Contact("acct-1", "Ada Lovelace", "ada@example.org"),
                line_items=[LineItem("Annual membership", Decimal(1), Decimal("120.00"))],
                currency="NZD",
                issue_date=date(2026, 7, 1),
                due_date=date(2026, 7, 31),
            ),
            idempotency_key="invoice:membership-7",
        )
        emulator.record_payment(invoice.provider_id, invoice.total)
        assert billing.inbox is not None
        billing.inbox.add(  # the delivery kept before the 200; then the process was killed
            WebhookDelivery(
                events=(
                    WebhookEvent(
                        EventCategory.INVOICE,
                        EventType.UPDATE,
                        invoice.provider_id,
                        datetime.now(UTC),
                        config.tenant_id,
                    ),
                )
            )
        )
        billing.close()

        first = _drain(environ, record)  # AMS_BILLING_DATABASE_URL names the database
        second = _drain({**environ, "AMS_BILLING_DATABASE_URL": "memory:"}, record, "--url", url)

    assert first.returncode == 0, first.stdout + first.stderr
    assert json.loads(first.stdout) | {"database": "-"} == {
        "database": "-", "processed": 1, "failed": 0, "pending": 0,
    }  # fmt: skip
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert lines == [[invoice.provider_id, "paid"]]
    assert second.returncode == 0
    assert json.loads(second.stdout)["processed"] == 0


def test_drain_refuses_memory_which_no_other_process_shares(tmp_path: Path) -> None:
    environ = {"AMS_BILLING_SERVICE_CLASS": "fake", "AMS_BILLING_DATABASE_URL": "memory:"}
    done = _drain(environ, tmp_path / "changes.jsonl")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "no database to open" in done.stdout + done.stderr
