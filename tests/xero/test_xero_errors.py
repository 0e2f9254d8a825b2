"""How each class of Xero failure reaches the caller: the core's error, with the operator's fix."""

from __future__ import annotations

import attrs
import pytest
from xero_rig import Rig

from ams_billing import (
    AuthenticationError,
    BillingService,
    IdempotencyConflictError,
    LineItem,
    NotFoundError,
    ProviderUnavailableError,
    ValidationError,
)
from ams_billing.emulators.xero import EmulatorConfig, FaultKind, FaultRule

OTHER_TENANT = "0badc0de-0000-4000-8000-000000000000"


def test_wrong_client_credentials_name_the_variables(make_rig, member) -> None:
    rig = make_rig(client_secret="a-regenerated-secret")
    with pytest.raises(AuthenticationError) as raised:
        rig.service.create_contact(member, idempotency_key="contact:1")
    message = str(raised.value)
    assert "invalid_client" in message
    assert "XERO_CLIENT_ID" in message
    assert "XERO_CLIENT_SECRET" in message
    assert "regenerated" in message
    assert "a-regenerated-secret" not in message


def test_a_scope_asked_for_but_not_configured_names_xero_scopes(make_rig, member) -> None:
    rig = make_rig(scopes=("accounting.contacts", "accounting.journals.read"))
    with pytest.raises(AuthenticationError, match="XERO_SCOPES"):
        rig.service.create_contact(member, idempotency_key="contact:1")


def test_a_wrong_tenant_names_xero_tenant_id_and_the_demo_reset(make_rig, member) -> None:
    rig = make_rig(tenant_id=OTHER_TENANT)
    with pytest.raises(AuthenticationError) as raised:
        rig.service.create_contact(member, idempotency_key="contact:1")
    message = str(raised.value)
    assert "AuthenticationUnsuccessful" in message
    assert "XERO_TENANT_ID" in message
    assert "Demo Company reset" in message
    assert len(rig.api("POST")) == 1  # refused, not retried


def test_a_missing_scope_names_the_scopes_to_tick(make_rig, membership) -> None:
    rig = make_rig(EmulatorConfig(scopes=("accounting.contacts",)))
    with pytest.raises(AuthenticationError) as raised:
        rig.service.create_invoice(membership, idempotency_key="invoice:1")
    message = str(raised.value)
    assert "AuthorizationUnsuccessful" in message
    assert "accounting.transactions" in message
    assert "accounting.invoices" in message
    assert "29 April 2026" in message


def test_a_connection_with_granular_scopes_works(make_rig, membership) -> None:
    from ams_billing.emulators.xero import GRANULAR_SCOPES

    rig = make_rig(EmulatorConfig(scopes=GRANULAR_SCOPES))
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert rig.service.get_invoice_url(invoice.provider_id)
    assert rig.service.send_invoice(invoice).sent


def test_refused_fields_are_named_as_the_core_names_them(rig: Rig, membership) -> None:
    request = attrs.evolve(
        membership,
        currency="GBP",
        line_items=[
            LineItem("Membership", 1, "100.00"),
            LineItem("Donation", 1, "20.00", account_code="999"),
        ],
    )
    with pytest.raises(ValidationError) as raised:
        rig.service.create_invoice(request, idempotency_key="invoice:1")
    assert set(raised.value.fields) == {"currency", "line_items[1].account_code"}
    assert "Organisation is not subscribed to currency GBP" in str(raised.value)
    assert rig.emulator.books().invoices == ()


def test_an_unknown_default_account_code_blames_account_code(make_rig, membership) -> None:
    rig = make_rig(account_code="999")
    with pytest.raises(ValidationError) as raised:
        rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert raised.value.fields == ("account_code",)
    assert "XERO_ACCOUNT_CODE" in str(raised.value)


def test_a_refused_create_can_be_retried_with_the_same_key_once_fixed(rig: Rig, membership) -> None:
    wrong = attrs.evolve(membership, currency="GBP")  # not enabled (NZD, AUD and USD are)
    with pytest.raises(ValidationError):
        rig.service.create_invoice(wrong, idempotency_key="invoice:1")
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert invoice.currency == "NZD"


def test_the_same_key_for_another_invoice_conflicts(rig: Rig, membership) -> None:
    rig.service.create_invoice(membership, idempotency_key="invoice:1")
    with pytest.raises(IdempotencyConflictError) as raised:
        rig.service.create_invoice(
            attrs.evolve(membership, reference="OTHER"), idempotency_key="invoice:1"
        )
    assert raised.value.fields == ("idempotency_key",)
    assert rig.endpoint_count("PUT /Invoices") == 1


def test_a_second_process_repeating_the_request_gets_the_same_invoice(rig: Rig, membership) -> None:
    first = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    # Another process (empty ledger, no cached contact) retries the same request minutes later.
    other = BillingService(rig.second_provider())
    again = other.create_invoice(membership, idempotency_key="invoice:1")
    assert again.provider_id == first.provider_id
    assert len(rig.emulator.books().invoices) == 1
    assert len(rig.emulator.books().contacts) == 1
    assert rig.emulator.calls[-1].replayed


def test_unknown_ids_are_not_found(rig: Rig) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(NotFoundError) as raised:
        rig.service.get_invoice_url(missing)
    assert raised.value.resource_id == missing
    with pytest.raises(NotFoundError):
        rig.service.void_invoice(missing)
    with pytest.raises(NotFoundError):
        rig.service.get_invoice(missing)
    assert rig.service.get_invoices([missing, "nonsense"]) == []


def test_server_errors_on_a_read_are_retried_with_backoff(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.emulator.add_fault(
        FaultRule(FaultKind.SERVER_ERROR, method="GET", path="/Invoices", count=2)
    )
    started = rig.emulator.clock.elapsed()
    assert rig.service.get_invoice(invoice.provider_id).provider_id == invoice.provider_id
    waited = rig.emulator.clock.elapsed() - started
    assert 0.5 + 1.0 <= waited <= 0.5 + 1.0 + 2 * 0.5  # two backoffs, with jitter, not slept
    assert [c.status for c in rig.emulator.calls if c.endpoint == "GET /Invoices"] == [
        500,
        500,
        200,
    ]


def test_a_provider_that_stays_down_is_unavailable(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.emulator.add_fault(FaultRule(FaultKind.ORGANISATION_OFFLINE, method="GET"))
    with pytest.raises(ProviderUnavailableError) as raised:
        rig.service.get_invoice(invoice.provider_id)
    assert "The Organisation is offline" in str(raised.value)
    assert raised.value.retryable
    assert rig.endpoint_count("GET /Invoices") == rig.provider.settings.max_attempts


def test_a_write_without_an_idempotency_key_is_not_repeated(rig: Rig) -> None:
    rig.emulator.add_fault(FaultRule(FaultKind.SERVER_ERROR, method="POST", path="/Contacts"))
    with pytest.raises(ProviderUnavailableError) as raised:
        rig.provider.http.api("POST", "/Contacts", body={"Contacts": [{"Name": "X"}]})
    assert not raised.value.retryable
    assert rig.endpoint_count("POST /Contacts") == 1


def test_a_dropped_keyless_write_is_not_repeated(rig: Rig) -> None:
    rig.emulator.add_fault(FaultRule(FaultKind.DROP_AFTER, method="POST", path="/Contacts"))
    with pytest.raises(ProviderUnavailableError, match="outcome is unknown") as raised:
        rig.provider.http.api("POST", "/Contacts", body={"Contacts": [{"Name": "X"}]})
    assert not raised.value.retryable
    assert len(rig.emulator.books().contacts) == 1
