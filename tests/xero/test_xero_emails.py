"""Invoice emails: sent once per key, off by setting, impossible on a Demo Company."""

from __future__ import annotations

import attrs
import pytest
from xero_rig import Rig

from ams_billing import (
    Capability,
    EmailSkipReason,
    IdempotencyConflictError,
    InvalidStateError,
    RateLimitedError,
    UnsupportedOperationError,
    load_service,
)
from ams_billing.emulators.xero import BROAD_SCOPES, EmulatorConfig, XeroEmulator
from ams_billing.emulators.xero.harness import EMULATOR_BASE_URL

EMAIL = "POST /Invoices/{id}/Email"


def test_an_invoice_is_emailed_once_per_key(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    result = rig.service.send_invoice(invoice)
    assert (result.sent, result.recipient, result.skipped_reason) == (True, "ada@example.org", None)
    assert rig.service.send_invoice(invoice) == result
    assert rig.endpoint_count(EMAIL) == 1


def test_the_same_key_for_another_invoice_conflicts(rig: Rig, membership) -> None:
    first = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    second = rig.service.create_invoice(
        attrs.evolve(membership, reference="OTHER"), idempotency_key="invoice:2"
    )
    rig.service.send_invoice(first, idempotency_key="email:x")
    with pytest.raises(IdempotencyConflictError):
        rig.service.send_invoice(second, idempotency_key="email:x")


def test_emails_switched_off_send_nothing(make_rig, membership) -> None:
    rig = make_rig(email_invoices=False)
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    result = rig.service.send_invoice(invoice)
    assert (result.sent, result.skipped_reason) == (False, EmailSkipReason.EMAILS_DISABLED)
    assert Capability.SEND_INVOICE not in rig.service.capabilities
    assert rig.endpoint_count(EMAIL) == 0
    assert rig.endpoint_count("GET /Organisation") == 0


def test_a_demo_company_is_found_from_the_organisation(rig: Rig, membership) -> None:
    rig.emulator.set_demo_company(True)
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert Capability.SEND_INVOICE not in rig.service.capabilities
    assert Capability.SEND_INVOICE not in rig.service.capabilities
    assert rig.endpoint_count("GET /Organisation") == 1
    with pytest.raises(UnsupportedOperationError, match="XERO_EMAIL_INVOICES=False") as raised:
        rig.service.send_invoice(invoice)
    assert raised.value.capability == "send_invoice"
    assert rig.endpoint_count(EMAIL) == 0


def test_without_a_settings_scope_a_refused_email_reveals_the_demo_company(
    make_rig, membership
) -> None:
    scopes = tuple(s for s in BROAD_SCOPES if not s.startswith("accounting.settings"))
    rig = make_rig(EmulatorConfig(scopes=scopes, is_demo_company=True))
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert Capability.SEND_INVOICE in rig.service.capabilities  # cannot tell yet
    with pytest.raises(UnsupportedOperationError):
        rig.service.send_invoice(invoice)
    assert Capability.SEND_INVOICE not in rig.service.capabilities
    assert rig.provider.ledger.get("email:" + invoice.provider_id) is None


def test_a_voided_invoice_cannot_be_emailed(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    voided = rig.service.void_invoice(invoice.provider_id)
    with pytest.raises(InvalidStateError) as raised:
        rig.service.send_invoice(voided)
    assert raised.value.resource_id == invoice.provider_id


def test_a_stale_invoice_object_still_gets_xeros_answer(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.service.void_invoice(invoice.provider_id)
    with pytest.raises(InvalidStateError):
        rig.service.send_invoice(invoice)  # the AUTHORISED copy the caller still holds


def test_no_recipient_is_skipped_without_a_request(rig: Rig, membership) -> None:
    request = attrs.evolve(membership, contact=attrs.evolve(membership.contact, email=None))
    invoice = rig.service.create_invoice(request, idempotency_key="invoice:1")
    result = rig.service.send_invoice(invoice)
    assert (result.sent, result.skipped_reason) == (False, EmailSkipReason.NO_RECIPIENT)
    assert rig.endpoint_count(EMAIL) == 0


def test_a_spent_allowance_is_a_rate_limit(make_rig, membership) -> None:
    rig = make_rig(EmulatorConfig(email_daily_limit=1))
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.service.send_invoice(invoice, idempotency_key="email:1")
    with pytest.raises(RateLimitedError) as raised:
        rig.service.send_invoice(invoice, idempotency_key="email:2")
    assert raised.value.limit == "email"


def test_the_whitelist_is_the_cores_policy(monkeypatch: pytest.MonkeyPatch, membership) -> None:
    emulator = XeroEmulator()
    config = emulator.config
    env = {
        "XERO_CLIENT_ID": config.client_id,
        "XERO_CLIENT_SECRET": config.client_secret,
        "XERO_WEBHOOK_KEY": config.webhook_key,
        "XERO_ACCOUNT_CODE": "200",
        "XERO_AMOUNT_TYPE": "EXCLUSIVE",
        "XERO_CURRENCY_CODE": "NZD",
        "XERO_API_URL": EMULATOR_BASE_URL,
        "XERO_IDENTITY_URL": EMULATOR_BASE_URL,
        "AMS_BILLING_SERVICE_CLASS": "xero",
        "AMS_BILLING_EMAIL_WHITELIST_REGEX": r"@members\.example\.org$",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    service = load_service(
        transport=emulator.transport(),
        clock=emulator.clock.elapsed,
        sleep=emulator.clock.sleep,
    )
    try:
        invoice = service.create_invoice(membership, idempotency_key="invoice:1")
        result = service.send_invoice(invoice)
        assert (result.sent, result.skipped_reason) == (
            False,
            EmailSkipReason.RECIPIENT_NOT_WHITELISTED,
        )
        assert all("Email" not in call.path for call in emulator.calls)
    finally:
        service.provider.close()
