"""Deliveries processed by Django's Tasks framework: the backport's database backend and its
real worker process (``manage.py db_worker``), on the test database.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import override_settings
from racers import worker_env

from ams_billing import ChangeKind, Contact, InvoiceRequest, LineItem
from ams_billing.contrib.django import processing as django_processing
from ams_billing.contrib.django.models import InboxEntryRow, InvoiceSnapshotRow
from ams_billing.contrib.django.processing import webhook_processing
from ams_billing.contrib.django.service import get_billing_service, reset_billing_service
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    EmulatorServer,
    XeroEmulator,
    serve_emulator,
)

pytest.importorskip("django_tasks_db", reason="the Tasks database backend (django-tasks-db)")
from django_tasks_db.models import DBTaskResult

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = EmulatorConfig()
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def xero() -> Iterator[tuple[XeroEmulator, dict[str, str]]]:
    emulator = XeroEmulator(CONFIG, clock=EmulatorClock.real())
    server: EmulatorServer
    with serve_emulator(emulator) as server:
        variables = {
            "AMS_BILLING_SERVICE_CLASS": "xero",
            "XERO_CLIENT_ID": CONFIG.client_id,
            "XERO_CLIENT_SECRET": CONFIG.client_secret,
            "XERO_TENANT_ID": CONFIG.tenant_id,
            "XERO_WEBHOOK_KEY": CONFIG.webhook_key,
            "XERO_ACCOUNT_CODE": "200",
            "XERO_AMOUNT_TYPE": "INCLUSIVE",
            "XERO_CURRENCY_CODE": "NZD",
            "XERO_API_URL": server.base_url,
            "XERO_IDENTITY_URL": server.base_url,
        }
        with override_settings(**variables, TASKS=TASKS):
            reset_billing_service()
            yield emulator, variables
            reset_billing_service()


@pytest.fixture
def db_worker(
    xero: tuple[XeroEmulator, dict[str, str]], tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    _, variables = xero
    signals = tmp_path / "signals.jsonl"
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(  # the backport's worker, exactly as an operator runs it
        [sys.executable, "-m", "django", "db_worker", "--interval", "0.1", "--no-startup-delay"],
        env=worker_env(**variables, AMS_BILLING_TEST_SIGNAL_LOG=str(signals)),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield worker, signals
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=15)
        log.close()


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def test_with_a_task_backend_the_view_enqueues_and_the_worker_processes(
    live_server: object,
    xero: tuple[XeroEmulator, dict[str, str]],
    db_worker: tuple[subprocess.Popen[bytes], Path],
) -> None:
    emulator, _ = xero
    worker, signals = db_worker
    assert webhook_processing() == "task"  # auto: TASKS names a backend that runs elsewhere
    emulator.set_webhook_target(f"{live_server.url}/billing/xero/webhooks/")  # type: ignore[attr-defined]
    invoice = get_billing_service().create_invoice(
        InvoiceRequest(
            contact=Contact("acct-task", "Ada Lovelace", "ada@example.org"),
            line_items=[LineItem("Membership", 1, Decimal("90.00"))],
            currency="NZD",
            issue_date=date(2026, 7, 1),
            due_date=date(2026, 7, 31),
        ),
        idempotency_key="invoice:task-1",
    )
    emulator.record_payment(invoice.provider_id, invoice.total)
    results = emulator.deliver_webhooks(force=True)
    assert results
    assert all(result.status == 200 for result in results)
    assert InboxEntryRow.objects.count() >= 1  # kept before the 200
    assert DBTaskResult.objects.count() >= 1  # and a task enqueued for it

    def processed() -> bool:
        assert worker.poll() is None, "the worker died"
        return not InboxEntryRow.objects.filter(done=False).exists() and (
            InvoiceSnapshotRow.objects.filter(
                invoice_id=invoice.provider_id, status="PAID"
            ).exists()
        )

    wait_for(processed, 60, "the worker to process the delivery")
    wait_for(
        lambda: not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists(),
        30,
        "every task to finish",
    )
    assert all(result.worker_ids for result in DBTaskResult.objects.all())
    told = [json.loads(line) for line in signals.read_text().splitlines()]
    assert told == [[invoice.provider_id, ChangeKind.PAID.value]]  # in the worker's process
    assert django_processing._processor is None  # this process's thread never ran
