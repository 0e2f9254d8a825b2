"""The view keeps each delivery in the database before it answers; anyone can finish the work."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, override_settings
from test_django_webhook import paid_delivery, post

from ams_billing import ChangeKind, InvoiceChange
from ams_billing.contrib.django.models import InboxEntryRow, InvoiceSnapshotRow
from ams_billing.contrib.django.processing import (
    DjangoBackgroundProcessor,
    get_processor,
    webhook_processing,
)
from ams_billing.contrib.django.service import get_billing_service, reset_billing_service
from ams_billing.contrib.django.signals import invoice_changed
from ams_billing.contrib.django.stores import (
    DjangoIdempotencyStore,
    DjangoInvoiceStateStore,
    DjangoWebhookInbox,
)
from ams_billing.core.convert import structure
from ams_billing.core.inbox import InMemoryWebhookInbox
from ams_billing.core.models import WebhookDelivery
from ams_billing.core.tracking import InMemoryInvoiceStateStore
from ams_billing.core.webhooks import BackgroundProcessor
from ams_billing.stores import SqlInvoiceStateStore, SqlWebhookInbox

pytestmark = pytest.mark.django_db(transaction=True)


def default_sql_stores() -> Path:
    """The SQLite file ``load_service()`` uses by default (under the test's XDG_DATA_HOME)."""
    return Path(os.environ["XDG_DATA_HOME"]) / "ams-billing" / "billing.sqlite3"


@pytest.fixture
def no_worker(monkeypatch: pytest.MonkeyPatch) -> BackgroundProcessor:
    """The process's processor, whose thread never starts: nothing is processed."""
    processor = get_processor()
    monkeypatch.setattr(processor, "_ensure_started", lambda: None)
    return processor


def test_the_database_stores_are_used_when_the_app_is_installed() -> None:
    reset_billing_service()
    service = get_billing_service()
    assert isinstance(service._tracker.store, DjangoInvoiceStateStore)
    assert isinstance(service.inbox, DjangoWebhookInbox)
    processor = get_processor()
    assert isinstance(processor, DjangoBackgroundProcessor)
    assert isinstance(processor.inbox, DjangoWebhookInbox)
    assert webhook_processing() == "thread"  # no TASKS configured
    assert not default_sql_stores().parent.exists(), (
        "the app opens no database of ams_billing.stores"
    )


@override_settings(
    AMS_BILLING_SERVICE_CLASS="xero",
    XERO_CLIENT_ID="C" * 32,
    XERO_CLIENT_SECRET="s" * 48,
    XERO_TENANT_ID="4f3c2d8e-1b2a-4c5d-9e8f-7a6b5c4d3e2f",
    XERO_WEBHOOK_KEY="k" * 40,
    XERO_ACCOUNT_CODE="200",
    XERO_AMOUNT_TYPE="INCLUSIVE",
    XERO_CURRENCY_CODE="NZD",
)
def test_the_xero_provider_gets_the_database_idempotency_store() -> None:
    reset_billing_service()
    assert isinstance(get_billing_service().provider.ledger, DjangoIdempotencyStore)  # type: ignore[attr-defined]


def test_without_the_app_the_state_is_where_load_service_keeps_it() -> None:
    with override_settings(INSTALLED_APPS=[]):
        reset_billing_service()
        service = get_billing_service()
        assert isinstance(service.state_store, SqlInvoiceStateStore)
        assert service.state_store.engine.url.database == str(default_sql_stores())
        processor = get_processor()
        assert type(processor) is BackgroundProcessor
        assert isinstance(processor.inbox, SqlWebhookInbox)
        assert processor.inbox is service.inbox
        reset_billing_service()


def test_without_the_app_a_setting_can_choose_memory() -> None:
    with override_settings(INSTALLED_APPS=[], AMS_BILLING_DATABASE_URL="memory:"):
        reset_billing_service()
        assert isinstance(get_billing_service().state_store, InMemoryInvoiceStateStore)
        processor = get_processor()
        assert type(processor) is BackgroundProcessor
        assert isinstance(processor.inbox, InMemoryWebhookInbox)
        reset_billing_service()
    assert not default_sql_stores().parent.exists()


def test_the_delivery_is_in_the_table_before_the_answer(
    no_worker: BackgroundProcessor, changes: list[InvoiceChange]
) -> None:
    delivery = paid_delivery()
    response = post(Client(), delivery)
    assert response.status_code == 200  # type: ignore[attr-defined]
    (row,) = InboxEntryRow.objects.all()
    assert not row.done
    kept = structure(row.delivery, WebhookDelivery)
    verdict = get_billing_service().handle_webhook(delivery.body, delivery.headers)
    assert kept == verdict.delivery
    assert changes == []


def test_under_atomic_requests_the_delivery_is_committed_before_the_answer(
    monkeypatch: pytest.MonkeyPatch, changes: list[InvoiceChange]
) -> None:
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    seen_in_transaction: list[bool] = []
    real_add = DjangoWebhookInbox.add

    def add(self: DjangoWebhookInbox, delivery: WebhookDelivery) -> str:
        seen_in_transaction.append(connection.in_atomic_block)
        return real_add(self, delivery)

    monkeypatch.setattr(DjangoWebhookInbox, "add", add)
    response = post(Client(), paid_delivery())
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert seen_in_transaction == [False]  # written after the request's transaction committed
    assert InboxEntryRow.objects.count() == 1
    assert get_processor().drain(10)
    assert [change.kind for change in changes] == [ChangeKind.PAID]
    assert InboxEntryRow.objects.get().done


@override_settings(AMS_BILLING_WEBHOOK_PROCESSING="none")
def test_with_processing_none_only_the_drain_command_processes(
    changes: list[InvoiceChange],
) -> None:
    assert webhook_processing() == "none"
    post(Client(), paid_delivery())
    assert InboxEntryRow.objects.filter(done=False).count() == 1
    assert changes == []
    out = StringIO()
    call_command("ams_billing_drain", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"processed": 1, "failed": 0, "pending": 0}
    assert [change.kind for change in changes] == [ChangeKind.PAID]
    assert InvoiceSnapshotRow.objects.get().status == "PAID"
    out = StringIO()
    call_command("ams_billing_drain", stdout=out)
    assert out.getvalue().strip() == "processed 0, failed 0, pending 0"


@pytest.fixture
def failing_listener() -> Iterator[None]:
    def receiver(sender: object, **kwargs: object) -> None:
        raise RuntimeError("the AMS's database was away")

    invoice_changed.connect(receiver)
    yield
    invoice_changed.disconnect(receiver)


@override_settings(AMS_BILLING_WEBHOOK_PROCESSING="none")
@pytest.mark.usefixtures("failing_listener")
def test_the_drain_command_exits_1_when_a_batch_failed_and_keeps_it() -> None:
    post(Client(), paid_delivery())
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("ams_billing_drain", "--json", stdout=out)
    assert failure.value.returncode == 1
    assert json.loads(out.getvalue()) == {"processed": 0, "failed": 1, "pending": 1}
    (row,) = InboxEntryRow.objects.all()
    assert (row.done, row.attempts, row.leased_until) == (False, 1, None)


@override_settings(AMS_BILLING_WEBHOOK_PROCESSING="sometimes")
def test_a_wrong_processing_setting_is_reported() -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="auto, thread, task or none"):
        webhook_processing()
