"""XERO_AMOUNT_TYPE and XERO_ACCOUNT_CODE are what a request that names none is billed with.

A request that names them keeps them. The ledger remembers the request as sent, so a retry
after the operator changed a setting returns the invoice the key made, never a second one.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest
from xero_rig import Rig

from ams_billing import (
    AmountType,
    BatchItem,
    BatchOutcome,
    InvoiceDefaults,
    InvoiceRequest,
    ProviderUnavailableError,
)
from ams_billing.emulators.xero import FaultKind, FaultRule
from ams_billing.providers.xero import RecordState, XeroProvider

INCLUSIVE_120 = (Decimal("104.35"), Decimal("15.65"), Decimal("120.00"))
EXCLUSIVE_120 = (Decimal("120.00"), Decimal("18.00"), Decimal("138.00"))


def _sums(invoice: object) -> tuple[Decimal, Decimal, Decimal]:
    return (invoice.subtotal, invoice.total_tax, invoice.total)  # type: ignore[attr-defined]


def _restarted(rig: Rig, **settings: object) -> XeroProvider:
    """The provider as after a restart with changed settings: the same ledger, new settings."""
    provider = XeroProvider(
        attrs.evolve(rig.provider.settings, **settings),
        transport=rig.transport,
        clock=rig.emulator.clock.elapsed,
        sleep=rig.emulator.clock.sleep,
        idempotency_store=rig.provider.ledger,
    )
    rig.extra.append(provider)
    return provider


def test_the_settings_are_the_reported_defaults(make_rig) -> None:
    rig = make_rig(amount_type=AmountType.INCLUSIVE, account_code="260")
    assert rig.service.invoice_defaults == InvoiceDefaults(AmountType.INCLUSIVE, "NZD", "260")


def test_a_request_naming_no_amount_type_is_billed_with_xero_amount_type(
    make_rig, membership: InvoiceRequest
) -> None:
    rig = make_rig(amount_type=AmountType.INCLUSIVE)
    assert membership.amount_type is None
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert invoice.amount_type is AmountType.INCLUSIVE
    assert _sums(invoice) == INCLUSIVE_120
    (put,) = rig.api("PUT", "/Invoices")
    assert put.json()["Invoices"][0]["LineAmountTypes"] == "Inclusive"
    assert put.json()["Invoices"][0]["LineItems"][0]["AccountCode"] == "200"


@pytest.mark.parametrize("named", [AmountType.EXCLUSIVE, AmountType.NO_TAX])
def test_a_request_naming_an_amount_type_keeps_it(
    make_rig, membership: InvoiceRequest, named: AmountType
) -> None:
    rig = make_rig(amount_type=AmountType.INCLUSIVE)
    request = attrs.evolve(membership, amount_type=named)
    invoice = rig.service.create_invoice(request, idempotency_key="invoice:1")
    assert invoice.amount_type is named
    assert invoice.total == (Decimal("138.00") if named is AmountType.EXCLUSIVE else 120)


def test_bulk_requests_take_the_default_too(make_rig, membership: InvoiceRequest) -> None:
    rig = make_rig(amount_type=AmountType.INCLUSIVE)
    named = attrs.evolve(membership, reference="NAMED", amount_type=AmountType.EXCLUSIVE)
    results = rig.service.create_invoices(
        [BatchItem(membership, "invoice:1"), BatchItem(named, "invoice:2")]
    )
    assert [r.outcome for r in results] == [BatchOutcome.CREATED] * 2
    assert [_sums(r.result) for r in results] == [INCLUSIVE_120, EXCLUSIVE_120]


def test_a_retry_after_the_setting_changed_returns_the_first_invoice(
    make_rig, membership: InvoiceRequest
) -> None:
    rig = make_rig(amount_type=AmountType.INCLUSIVE)
    first = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    changed = _restarted(rig, amount_type=AmountType.EXCLUSIVE)
    again = changed.create_invoice(membership, "invoice:1")
    assert again.provider_id == first.provider_id
    assert _sums(again) == INCLUSIVE_120  # as it was created
    assert len(rig.emulator.books().invoices) == 1
    # A new key gets the new setting.
    other = changed.create_invoice(attrs.evolve(membership, reference="NEXT"), "invoice:2")
    assert _sums(other) == EXCLUSIVE_120


def test_a_lost_create_is_found_after_the_setting_changed(
    make_rig, membership: InvoiceRequest
) -> None:
    rig = make_rig(amount_type=AmountType.INCLUSIVE)
    attempts = rig.provider.settings.max_attempts
    rig.emulator.add_fault(
        FaultRule(FaultKind.DROP_AFTER, method="PUT", path="/Invoices", count=attempts)
    )
    with pytest.raises(ProviderUnavailableError):
        rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert rig.provider.ledger.get("invoice:1").state is RecordState.PENDING
    (created,) = rig.emulator.books().invoices
    rig.emulator.clock.advance(rig.emulator.config.idempotency_retention + 60)
    # The operator switches to EXCLUSIVE (and another account) before the retry.
    changed = _restarted(rig, amount_type=AmountType.EXCLUSIVE, account_code="260")
    invoice = changed.create_invoice(membership, "invoice:1")
    assert invoice.provider_id == created["InvoiceID"]
    assert _sums(invoice) == INCLUSIVE_120
    assert len(rig.emulator.books().invoices) == 1
    assert rig.provider.ledger.get("invoice:1").state is RecordState.DONE


def test_a_lost_create_naming_its_amount_type_adopts_only_that_one(
    make_rig, membership: InvoiceRequest
) -> None:
    rig = make_rig(amount_type=AmountType.INCLUSIVE)
    named = attrs.evolve(membership, amount_type=AmountType.INCLUSIVE)
    rig.service.create_invoice(named, idempotency_key="invoice:0")
    attempts = rig.provider.settings.max_attempts
    rig.emulator.add_fault(FaultRule(FaultKind.SERVER_ERROR, method="PUT", count=attempts))
    exclusive = attrs.evolve(membership, amount_type=AmountType.EXCLUSIVE)
    with pytest.raises(ProviderUnavailableError):
        rig.service.create_invoice(exclusive, idempotency_key="invoice:1")
    invoice = rig.service.create_invoice(exclusive, idempotency_key="invoice:1")
    assert _sums(invoice) == EXCLUSIVE_120  # the INCLUSIVE one is another key's
    assert len(rig.emulator.books().invoices) == 2


def test_a_key_recorded_before_unset_meant_the_default_still_replays(
    make_rig, membership: InvoiceRequest
) -> None:
    # Earlier releases recorded a request naming no amount type as naming EXCLUSIVE.
    rig = make_rig(amount_type=AmountType.INCLUSIVE)
    recorded = attrs.evolve(membership, amount_type=AmountType.EXCLUSIVE)
    first = rig.service.create_invoice(recorded, idempotency_key="invoice:1")
    again = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert again.provider_id == first.provider_id
    assert _sums(again) == EXCLUSIVE_120
    (result,) = rig.service.create_invoices([BatchItem(membership, "invoice:1")])
    assert (result.outcome, result.result.provider_id) == (
        BatchOutcome.EXISTING,
        first.provider_id,
    )
    assert len(rig.emulator.books().invoices) == 1
