"""A lost response followed by a refusal must not make the provider forget the key.

Found by the fault soak (seed 1, 1,000 operations): an invoice email whose first attempt was
applied but timed out, and whose retry met a day-limit 429, was emailed again by the caller's
next try an hour later. The same sequence on ``PUT /Invoices`` raised a second invoice once
Xero's own idempotency window (minutes) has passed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ams_billing import BillingService, Contact, InvoiceRequest, LineItem, RateLimitedError
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    FaultKind,
    FaultRule,
    XeroEmulator,
)
from ams_billing.emulators.xero.harness import EMULATOR_BASE_URL, emulator_settings
from ams_billing.providers.xero import XeroProvider

REQUEST = InvoiceRequest(
    contact=Contact("acct-1", "Ada Lovelace", "ada@example.org"),
    line_items=[LineItem("Annual membership", Decimal(1), Decimal("120.00"))],
    currency="NZD",
    issue_date=date(2026, 7, 1),
    due_date=date(2026, 7, 31),
    reference="MEMBERSHIP-1",
)


def rig() -> tuple[XeroEmulator, BillingService]:
    emulator = XeroEmulator(EmulatorConfig(seed=3), clock=EmulatorClock.virtual())
    clock = emulator.clock
    provider = XeroProvider(
        emulator_settings(emulator, EMULATOR_BASE_URL),
        transport=emulator.transport(),
        clock=clock.elapsed,
        sleep=lambda seconds: clock.sleep(max(seconds, 0.001)),
    )
    return emulator, BillingService(provider)


def applied_then_day_limit(emulator: XeroEmulator, method: str, path: str) -> None:
    # The first attempt is applied but its answer never arrives (a timeout); the transport's
    # retry then meets a day-limit 429 whose Retry-After is beyond XERO_MAX_RETRY_WAIT.
    emulator.add_fault(FaultRule(FaultKind.SLOW, method=method, path=path, count=1, delay=45))
    emulator.add_fault(
        FaultRule(FaultKind.RATE_LIMIT_DAY, method=method, path=path, count=1, retry_after=3600)
    )


def test_an_email_applied_then_rate_limited_is_not_sent_again_an_hour_later() -> None:
    emulator, service = rig()
    invoice = service.create_invoice(REQUEST, idempotency_key="invoice:1")
    applied_then_day_limit(emulator, "POST", r"/Email$")
    with pytest.raises(RateLimitedError) as raised:
        service.send_invoice(invoice, idempotency_key="email:1")
    emulator.clock.advance(raised.value.retry_after or 3600)
    service.send_invoice(invoice, idempotency_key="email:1")  # the caller's retry, same key
    sends = [
        call
        for call in emulator.calls
        if call.endpoint.endswith("/Email") and call.status == 204 and not call.replayed
    ]
    assert len(sends) == 1, f"the invoice was emailed {len(sends)} times"


def test_an_invoice_applied_then_rate_limited_is_not_raised_twice() -> None:
    emulator, service = rig()
    service.create_contact(REQUEST.contact, idempotency_key="contact:1")
    applied_then_day_limit(emulator, "PUT", r"/Invoices$")
    with pytest.raises(RateLimitedError) as raised:
        service.create_invoice(REQUEST, idempotency_key="invoice:1")
    emulator.clock.advance(raised.value.retry_after or 3600)
    invoice = service.create_invoice(REQUEST, idempotency_key="invoice:1")
    books = emulator.books().invoices
    ids = [i["InvoiceID"] for i in books if i["Reference"] == "MEMBERSHIP-1"]
    assert ids == [invoice.provider_id]
