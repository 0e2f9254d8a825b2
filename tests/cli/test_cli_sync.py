"""``ams-billing sync``: summaries, the high-water mark, and interrupted runs resumed."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import RecordingListener, invoke, json_of, running_emulator, write_env

from ams_billing import (
    BillingService,
    Contact,
    InMemoryInvoiceStateStore,
    Invoice,
    InvoiceChange,
    InvoiceRequest,
    LineItem,
    ProviderUnavailableError,
    hookimpl,
)
from ams_billing.cli import CliContext
from ams_billing.providers.fake import FakeProvider
from ams_billing.testing.fake import FakeDriver

LONG_AGO = "2000-01-01T00:00:00Z"


class Listener:
    def __init__(self, interrupt_at: int | None = None) -> None:
        self.heard: list[InvoiceChange] = []
        self.interrupt_at = interrupt_at

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        if self.interrupt_at is not None and len(self.heard) + 1 == self.interrupt_at:
            raise KeyboardInterrupt
        self.heard.append(change)


class FlakyFake(FakeProvider):
    """Records each read by ids; the ``fail_on``-th read fails as a dropped network would."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requested: list[list[str]] = []
        self.fail_on: int | None = None

    @hookimpl
    def get_invoices(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        self.requested.append(list(invoice_ids))
        if len(self.requested) == self.fail_on:
            raise ProviderUnavailableError("the connection to the provider failed")
        return super().get_invoices(invoice_ids)


class Books:
    """A fake provider with invoices, and the CLI wired to it in-process."""

    def __init__(self) -> None:
        self.fake = FlakyFake(webhook_key="sync-tests-key")
        self.billing = BillingService(self.fake)
        self.store = InMemoryInvoiceStateStore()

    def invoice(self, number: int, fee: str = "120.00") -> Invoice:
        contact = Contact(f"acct-{number}", f"Member {number}", f"m{number}@example.org")
        request = InvoiceRequest(
            contact=contact,
            line_items=[LineItem("Annual membership", Decimal(1), Decimal(fee))],
            currency="NZD",
            issue_date=datetime.now(UTC).date(),
            due_date=datetime.now(UTC).date() + timedelta(days=30),
        )
        return self.billing.create_invoice(request, idempotency_key=f"invoice:{number}")

    def paid(self, count: int) -> list[Invoice]:
        invoices = [self.invoice(n) for n in range(1, count + 1)]
        for invoice in invoices:
            FakeDriver(self.fake).add_payment(invoice.provider_id, invoice.total)
        return self.billing.get_invoices([invoice.provider_id for invoice in invoices])

    def context(
        self, listener: Listener | None = None, *, shared_store: bool = False
    ) -> CliContext:
        def factory(environ: Any, listeners: Sequence[object]) -> BillingService:
            store = self.store if shared_store else InMemoryInvoiceStateStore()
            everyone = [*listeners, *([listener] if listener else [])]
            return BillingService(self.fake, listeners=everyone, state_store=store)

        return CliContext(service_factory=factory)


@pytest.fixture
def books() -> Books:
    return Books()


def sync(state: Path, *args: str, obj: CliContext | None = None, json_out: bool = True) -> Any:
    result = invoke(
        ["sync", "--state", str(state), *args, *(["--json"] if json_out else [])], obj=obj
    )
    if not json_out:
        return result
    document = json_of(result)
    assert document["exit_code"] == result.exit_code, result.output
    return document


def test_since_summarises_the_changes_and_records_the_high_water_mark(
    books: Books, tmp_path: Path
) -> None:
    paid, partly, voided, untouched = (books.invoice(n) for n in range(1, 5))
    FakeDriver(books.fake).add_payment(paid.provider_id, paid.total)
    FakeDriver(books.fake).add_payment(partly.provider_id, "20.00")
    books.billing.void_invoice(voided.provider_id)
    listener = Listener()
    state = tmp_path / "state.json"
    document = sync(state, "--since", LONG_AGO, obj=books.context(listener))
    assert document["ok"] is True
    assert document["completed"] is True
    assert document["invoices"] == 4
    assert document["changes"] == {
        "paid": 1, "partially_paid": 1, "voided": 1, "deleted": 0, "updated": 0,
        "written_off": 0,
    }  # fmt: skip
    kinds = {c["invoice_id"]: c["kind"] for c in document["changed_invoices"]}
    assert kinds == {
        paid.provider_id: "paid", partly.provider_id: "partially_paid",
        voided.provider_id: "voided",
    }  # fmt: skip
    assert untouched.provider_id not in kinds
    assert [c.invoice.provider_id for c in listener.heard] == list(kinds)
    latest = max(i.updated_at for i in books.fake.invoices)
    assert document["high_water_mark"] == latest.isoformat()
    saved = json.loads(state.read_text())
    assert saved == {
        "version": 1, "high_water_mark": latest.isoformat(), "since_run": None, "id_run": None,
    }  # fmt: skip


def test_the_text_summary_has_counts_and_a_table(books: Books, tmp_path: Path) -> None:
    invoice = books.paid(1)[0]
    result = sync(tmp_path / "s.json", "--since", LONG_AGO, obj=books.context(), json_out=False)
    assert result.exit_code == 0, result.output
    assert "Synced 1 of 1 invoice(s) changed since 2000-01-01T00:00:00+00:00" in result.stdout
    assert (
        "Changes: 1 paid, 0 partially paid, 0 voided, 0 deleted, 0 written off, 0 updated"
        in result.stdout
    )
    row = next(
        line for line in result.stdout.splitlines() if invoice.number and invoice.number in line
    )
    assert "Member 1" in row
    assert "PAID" in row  # no earlier state in this process: "was" is unknown
    assert "NZD 138.00" in row
    assert "High-water mark:" in result.stdout


def test_a_narrow_summary_cuts_no_value(books: Books, tmp_path: Path) -> None:
    invoice = books.paid(1)[0]
    assert invoice.number is not None
    result = invoke(
        ["sync", "--state", str(tmp_path / "s.json"), "--since", LONG_AGO],
        obj=books.context(),
        env={"COLUMNS": "40"},
    )
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if invoice.number in line)
    assert "Member 1" in row
    assert "138.00" in result.stdout
    assert "…" not in result.stdout


def test_since_last_starts_at_the_high_water_mark(books: Books, tmp_path: Path) -> None:
    first, second = books.invoice(1), books.invoice(2)
    FakeDriver(books.fake).add_payment(first.provider_id, first.total)
    state = tmp_path / "state.json"
    obj = books.context(shared_store=True)
    before = sync(state, "--since", LONG_AGO, obj=obj)
    assert before["changes"]["paid"] == 1
    FakeDriver(books.fake).add_payment(second.provider_id, second.total)
    after = sync(state, "--since-last", obj=obj)
    assert after["started_from"] == before["high_water_mark"]
    assert after["changes"]["paid"] == 1
    assert [c["invoice_id"] for c in after["changed_invoices"]] == [second.provider_id]
    assert after["high_water_mark"] > before["high_water_mark"]


def test_ids_interrupted_by_a_provider_failure_resume_where_they_stopped(
    books: Books, tmp_path: Path
) -> None:
    ids = [invoice.provider_id for invoice in books.paid(5)]
    state = tmp_path / "state.json"
    args = ["--batch-size", "2", *(f"--id={i}" for i in ids)]
    books.fake.requested.clear()
    books.fake.fail_on = 2
    first = sync(state, *args, obj=books.context())
    assert first["exit_code"] == 4
    assert first["completed"] is False
    assert first["synced"] == 2
    assert first["error"]["type"] == "ProviderUnavailableError"
    assert json.loads(state.read_text())["id_run"]["done"] == ids[:2]

    books.fake.requested.clear()
    books.fake.fail_on = None
    second = sync(state, *args, obj=books.context())
    assert second["exit_code"] == 0
    assert second["resumed"] is True
    assert second["done_before"] == 2
    assert second["synced"] == 3
    assert books.fake.requested == [ids[2:4], ids[4:]]  # only what was left
    assert [c["invoice_id"] for c in second["changed_invoices"]] == ids[2:]
    assert json.loads(state.read_text())["id_run"] is None  # finished: the next run starts afresh


def test_since_interrupted_by_ctrl_c_resumes_from_the_last_batch(
    books: Books, tmp_path: Path
) -> None:
    invoices = books.paid(5)
    state = tmp_path / "state.json"
    args = ["--since", LONG_AGO, "--batch-size", "2"]
    first = sync(state, *args, obj=books.context(Listener(interrupt_at=3)))
    assert first["exit_code"] == 130
    assert first["synced"] == 2
    mark = invoices[1].updated_at.isoformat()
    saved = json.loads(state.read_text())
    assert saved["high_water_mark"] == mark
    assert saved["since_run"] == {"since": "2000-01-01T00:00:00+00:00", "resume_from": mark}

    listener = Listener()
    second = sync(state, *args, obj=books.context(listener))
    assert second["exit_code"] == 0
    assert second["resumed"] is True
    assert second["started_from"] == mark
    heard = [c.invoice.provider_id for c in listener.heard]
    assert heard[-3:] == [i.provider_id for i in invoices[2:]]
    assert invoices[0].provider_id not in heard  # the first batch is not read again
    assert json.loads(state.read_text())["since_run"] is None


def test_ctrl_c_in_text_mode_says_how_to_continue(books: Books, tmp_path: Path) -> None:
    books.paid(3)
    result = sync(
        tmp_path / "s.json", "--since", LONG_AGO, "--batch-size", "1",
        obj=books.context(Listener(interrupt_at=2)), json_out=False,
    )  # fmt: skip
    assert result.exit_code == 130
    assert "run the same command again to continue" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give exactly one of --since TIME, --since-last or --id ID"),
        (["--since", LONG_AGO, "--id", "x"], "give exactly one of"),
        (["--since", "2026-07-01T00:00:00"], "has no timezone"),
        (["--since", "yesterday"], "is not an ISO 8601 date and time"),
        (["--since-last"], "holds no high-water mark yet"),
    ],
)
def test_usage_errors_exit_2(books: Books, tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke(["sync", "--state", str(tmp_path / "s.json"), *args], obj=books.context())
    assert result.exit_code == 2
    assert message in result.output


def test_a_damaged_state_file_is_a_configuration_error(books: Books, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json", encoding="utf-8")
    document = sync(state, "--since-last", obj=books.context())
    assert document["exit_code"] == 3
    assert "delete it to start afresh" in document["error"]["problems"][0]["fix"]


def test_sync_against_the_emulator_with_the_xero_provider(tmp_path: Path) -> None:
    RecordingListener.heard.clear()
    started = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    with running_emulator() as xero, xero.provider() as provider:
        billing = BillingService(provider)
        contact = Contact("acct-9", "Grace Hopper", "grace@example.org")
        request = provider.invoice_request(
            contact, [LineItem("Annual membership", Decimal(1), Decimal("99.00"))],
            issue_date=datetime.now(UTC).date(), due_date=datetime.now(UTC).date(),
        )  # fmt: skip
        paid = billing.create_invoice(request, idempotency_key="invoice:9")
        unpaid = billing.create_invoice(
            provider.invoice_request(
                contact, [LineItem("Event", Decimal(1), Decimal("10.00"))],
                issue_date=datetime.now(UTC).date(), due_date=datetime.now(UTC).date(),
            ),
            idempotency_key="invoice:10",
        )  # fmt: skip
        xero.emulator.record_payment(paid.provider_id, paid.total)
        env = str(write_env(tmp_path / "xero.env", xero.env))
        state = tmp_path / "state.json"
        by_id = sync(
            state, "--env-file", env, "--id", paid.provider_id, "--id", unpaid.provider_id,
            "--listener", "cli_helpers:RecordingListener",
        )  # fmt: skip
        since = sync(state, "--env-file", env, "--since", started)
    assert by_id["changes"]["paid"] == 1
    assert by_id["changed_invoices"][0]["invoice_id"] == paid.provider_id
    assert by_id["changed_invoices"][0]["amount_paid"] == "99.00"
    assert [c.invoice.provider_id for c in RecordingListener.heard] == [paid.provider_id]
    # The second run is another process: it reads both invoices again, and the invoice states
    # the first run kept (the default database) tell it the payment is no news.
    assert since["invoices"] == 2
    assert since["changes"]["paid"] == 0
    assert since["changed_invoices"] == []


@pytest.mark.parametrize(("database", "paid_again"), [(None, 0), ("memory:", 1)])
def test_sync_keeps_invoice_states_in_the_default_database_unless_memory_is_chosen(
    tmp_path: Path, database: str | None, paid_again: int
) -> None:
    chosen = {} if database is None else {"AMS_BILLING_DATABASE_URL": database}
    with running_emulator() as xero, xero.provider() as provider:
        invoice = BillingService(provider).create_invoice(
            provider.invoice_request(
                Contact("acct-11", "Ada Lovelace", "ada@example.org"),
                [LineItem("Annual membership", Decimal(1), Decimal("99.00"))],
                issue_date=datetime.now(UTC).date(), due_date=datetime.now(UTC).date(),
            ),
            idempotency_key="invoice:11",
        )  # fmt: skip
        xero.emulator.record_payment(invoice.provider_id, invoice.total)
        env = str(write_env(tmp_path / "xero.env", {**xero.env, **chosen}))
        first = sync(tmp_path / "a.json", "--env-file", env, "--id", invoice.provider_id)
        again = sync(tmp_path / "b.json", "--env-file", env, "--id", invoice.provider_id)
    assert first["changes"]["paid"] == 1
    assert again["changes"]["paid"] == paid_again
    default = Path(os.environ["XDG_DATA_HOME"]) / "ams-billing" / "billing.sqlite3"
    assert default.is_file() is (database is None)


def test_an_unloadable_listener_is_a_configuration_error(books: Books, tmp_path: Path) -> None:
    document = sync(
        tmp_path / "s.json", "--since", LONG_AGO, "--listener", "no_such_module:Thing",
        obj=books.context(),
    )  # fmt: skip
    assert document["exit_code"] == 3
    assert document["error"]["problems"][0]["variable"] == "--listener"
