"""One Xero service shared by many threads: one token, no mixed-up answers, limits kept."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

from ams_billing import BillingService, Contact, InvoiceRequest, LineItem
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    XeroEmulator,
)
from ams_billing.emulators.xero.harness import EMULATOR_BASE_URL, emulator_settings
from ams_billing.providers.xero import XeroProvider

THREADS = 16


def request(thread: int, item: int) -> InvoiceRequest:
    contact = Contact(f"acct-{thread}", f"Member {thread}", f"m{thread}@example.org")
    return InvoiceRequest(
        contact=contact,
        line_items=[LineItem(f"Item {item}", Decimal(1), Decimal(f"{thread}.{item:02d}"))],
        currency="NZD",
        issue_date=date(2026, 7, 1),
        due_date=date(2026, 7, 31),
        reference=f"T{thread}-I{item}",
    )


def service_for(emulator: XeroEmulator) -> BillingService:
    clock = emulator.clock
    provider = XeroProvider(
        emulator_settings(emulator, EMULATOR_BASE_URL),
        transport=emulator.transport(),
        clock=clock.elapsed,
        sleep=lambda seconds: clock.sleep(max(seconds, 0.001)),
    )
    return BillingService(provider)


def run(service: BillingService, per_thread: int) -> list[str]:
    start = threading.Barrier(THREADS, timeout=30)
    mixups: list[str] = []

    def work(thread: int) -> None:
        start.wait()  # everyone asks for a token at once
        for item in range(per_thread):
            wanted = request(thread, item)
            invoice = service.create_invoice(wanted, idempotency_key=f"inv:{thread}:{item}")
            if (
                invoice.reference != wanted.reference
                or invoice.contact.account_reference != wanted.contact.account_reference
                or invoice.subtotal != wanted.line_items[0].unit_amount
            ):
                mixups.append(f"thread {thread} item {item} got {invoice.reference}")
            again = service.get_invoice(invoice.provider_id)
            if again.reference != wanted.reference:
                mixups.append(f"thread {thread} read {again.reference}")

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(work, thread) for thread in range(THREADS)]:
            future.result(timeout=120)
    return mixups


def test_sixteen_threads_share_one_token_and_get_their_own_invoices() -> None:
    emulator = XeroEmulator(EmulatorConfig(rate_limits=False), clock=EmulatorClock.virtual())
    service = service_for(emulator)
    assert run(service, per_thread=20) == []
    summary = emulator.call_summary()
    assert summary.by_endpoint["POST /connect/token"] == 1
    references = [i["Reference"] for i in emulator.books().invoices]
    assert len(references) == len(set(references)) == THREADS * 20


def test_with_xeros_limits_on_no_call_is_refused() -> None:
    # Real threads on a clock sped up 600 times: a Xero minute passes in 0.1 s.
    emulator = XeroEmulator(EmulatorConfig(), clock=EmulatorClock.real(scale=600))
    service = service_for(emulator)
    assert run(service, per_thread=4) == []
    summary = emulator.call_summary()
    assert summary.by_status.get(429, 0) == 0
    assert summary.limit_hits == {}
    assert summary.by_endpoint["POST /connect/token"] == 1
    assert summary.total > 60  # more than a minute's allowance went through
