"""The Xero harness's restart: past Xero's key window, only the durable ledger prevents a duplicate.

The restart contract tests pass for the Xero provider (``test_xero_contract.py``). These tests
show that they pass for the right reason: after the harness's restart Xero no longer replays
the key, so a provider instance without the ledger the first one wrote bills again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from ams_billing import BillingService
from ams_billing.contracts import ContractHarness
from ams_billing.contracts.builders import create_invoice, invoice_request, unique
from ams_billing.contracts.checks import invoices_with_reference
from ams_billing.core.errors import ProviderUnavailableError
from ams_billing.core.models import Invoice, InvoiceRequest
from ams_billing.emulators.xero.harness import XeroTestDriver, in_process_harness
from ams_billing.providers.xero import XeroProvider


@pytest.fixture
def harness() -> Iterator[ContractHarness]:
    harness = in_process_harness()
    try:
        yield harness
    finally:
        harness.close()


def lost_create(harness: ContractHarness) -> tuple[Invoice, InvoiceRequest, str]:
    """An anchor invoice, then a create Xero applied whose response was lost."""
    anchor = create_invoice(harness)
    request, key = invoice_request(harness), unique("invoice")
    driver = harness.driver
    assert isinstance(driver, XeroTestDriver)
    driver.fail_next(1, ProviderUnavailableError, operations=["create_invoice"], after_apply=True)
    with pytest.raises(ProviderUnavailableError):
        harness.service.create_invoice(request, idempotency_key=key)
    return anchor, request, key


def references(harness: ContractHarness, anchor: Invoice, request: InvoiceRequest) -> int:
    since = anchor.updated_at - timedelta(seconds=1)
    return len(invoices_with_reference(harness, since, request.reference))


def test_the_restart_moves_the_emulator_past_xeros_key_window(harness: ContractHarness) -> None:
    assert harness.restart is not None
    driver = harness.driver
    assert isinstance(driver, XeroTestDriver)
    before = driver.emulator.clock.elapsed()
    old = harness.service.provider
    restarted = harness.restart()
    assert restarted.provider is not old
    assert driver.emulator.clock.elapsed() - before > driver.emulator.config.idempotency_retention


def test_after_the_restart_only_the_durable_ledger_prevents_a_duplicate(
    harness: ContractHarness,
) -> None:
    anchor, request, key = lost_create(harness)
    assert harness.restart is not None
    harness.restart()
    first = harness.service.provider
    assert isinstance(first, XeroProvider)
    driver = harness.driver
    assert isinstance(driver, XeroTestDriver)
    # Another process over the same Xero, its ledger in memory: nothing remembers the key.
    forgetful = XeroProvider(
        first.settings,
        transport=driver.transport,
        clock=driver.emulator.clock.elapsed,
        sleep=driver.emulator.clock.sleep,
    )
    try:
        BillingService(forgetful).create_invoice(request, idempotency_key=key)
    finally:
        forgetful.close()
    assert references(harness, anchor, request) == 2

    # The restarted service, with the ledger the first one wrote, adopts the first invoice.
    anchor, request, key = lost_create(harness)
    restarted = harness.restart()
    restarted.create_invoice(request, idempotency_key=key)
    assert references(harness, anchor, request) == 1
