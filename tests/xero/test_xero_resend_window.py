"""The provider's own resend never goes out blind once Xero may have forgotten the key.

A write applied by Xero whose answer was lost is resent with the same ``Idempotency-Key``.
That is safe only while Xero still keeps the key (the emulator: ``idempotency_retention``,
360 s). Here the process is paused for minutes between the lost answer and the resend (the
provider's backoff sleep also moves the emulator's virtual clock past the window). The
provider must not resend: the call fails with a retryable ``ProviderUnavailableError``, the
ledger record stays pending, and the caller's retry finds what the lost attempt made.

Against main's transport.py (56c2b63, resending blind) the two invoice tests fail with a
second invoice and the email test with a second email. The contact test fails there only on
its ``error is not None`` (the contact save is an upsert by ``ContactNumber``, so the blind
resend made no second contact); it guards that the caller's retry still finds the contact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
from xero_rig import Rig

from ams_billing import Contact, InvoiceRequest, ProviderUnavailableError
from ams_billing.emulators.xero import FaultKind, FaultRule
from ams_billing.providers.xero import RecordState
from ams_billing.providers.xero.transport import RESEND_WITHIN

EMAIL = "POST /Invoices/{id}/Email"
T = TypeVar("T")


def pause_in_first_backoff(rig: Rig, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Make the provider's first retry wait also pass ``seconds`` (a process paused, a VM
    frozen): the emulator's clock, which is the provider's clock too, moves on that far."""
    http = rig.provider._http
    sleep: Callable[[float], None] = http._sleep
    paused: list[float] = []

    def pausing(wait: float) -> None:
        if not paused:
            paused.append(seconds)
            rig.emulator.clock.advance(seconds)
        sleep(wait)

    monkeypatch.setattr(http, "_sleep", pausing)


def past_the_window(rig: Rig) -> float:
    return rig.emulator.config.idempotency_retention + 40


def drop_after_once(rig: Rig, method: str, path: str) -> None:
    rig.emulator.add_fault(FaultRule(FaultKind.DROP_AFTER, method=method, path=path, count=1))


def first_then_retry(action: Callable[[], T]) -> tuple[T, ProviderUnavailableError | None]:
    """What the caller ends with: ``action``'s answer, or after its typed error, its retry's."""
    try:
        return action(), None
    except ProviderUnavailableError as error:
        return action(), error


def emails_applied(rig: Rig) -> int:
    """Emails Xero sent: answered 204, or applied before the connection was cut."""
    return sum(
        1
        for call in rig.emulator.calls
        if call.endpoint == EMAIL
        and not call.replayed
        and (call.status == 204 or (call.dropped and call.fault == FaultKind.DROP_AFTER.value))
    )


def test_a_lost_invoice_create_is_not_resent_after_xeros_key_window(
    rig: Rig, membership: InvoiceRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop_after_once(rig, "PUT", r"/Invoices$")
    pause_in_first_backoff(rig, monkeypatch, past_the_window(rig))
    invoice, error = first_then_retry(
        lambda: rig.service.create_invoice(membership, idempotency_key="invoice:1")
    )
    assert [i["InvoiceID"] for i in rig.emulator.books().invoices] == [invoice.provider_id]
    # The provider stopped instead of resending; the caller's retry looked the invoice up.
    assert error is not None
    assert error.retryable
    assert "not sent again" in str(error)
    puts = [c for c in rig.emulator.calls if c.endpoint == "PUT /Invoices"]
    assert [c.dropped for c in puts] == [True]
    lookups = [c for c in rig.emulator.calls if c.endpoint == "GET /Invoices"]
    assert lookups, "the retry looked for what the lost attempt made"
    assert rig.provider.ledger.get("invoice:1").state is RecordState.DONE


def test_a_timed_out_invoice_create_is_not_resent_after_xeros_key_window(
    rig: Rig, membership: InvoiceRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Xero applies the create and answers after the client's timeout: the client times out.
    rig.emulator.add_fault(
        FaultRule(FaultKind.SLOW, method="PUT", path=r"/Invoices$", count=1, delay=120.0)
    )
    pause_in_first_backoff(rig, monkeypatch, past_the_window(rig))
    invoice, error = first_then_retry(
        lambda: rig.service.create_invoice(membership, idempotency_key="invoice:1")
    )
    assert [i["InvoiceID"] for i in rig.emulator.books().invoices] == [invoice.provider_id]
    assert error is not None


def test_a_lost_email_is_not_resent_after_xeros_key_window(
    rig: Rig, membership: InvoiceRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    drop_after_once(rig, "POST", r"/Email$")
    pause_in_first_backoff(rig, monkeypatch, past_the_window(rig))
    result, error = first_then_retry(
        lambda: rig.service.send_invoice(invoice, idempotency_key="email:1")
    )
    assert emails_applied(rig) == 1
    assert (result.sent, result.recipient) == (True, "ada@example.org")
    assert error is not None
    assert rig.endpoint_count(EMAIL) == 1
    assert rig.provider.ledger.get("email:1").state is RecordState.DONE


def test_a_lost_contact_create_is_not_resent_after_xeros_key_window(
    rig: Rig, member: Contact, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop_after_once(rig, "POST", r"/Contacts$")
    pause_in_first_backoff(rig, monkeypatch, past_the_window(rig))
    contact, error = first_then_retry(
        lambda: rig.service.create_contact(member, idempotency_key="contact:1")
    )
    assert [c["ContactID"] for c in rig.emulator.books().contacts] == [contact.provider_id]
    assert error is not None
    assert rig.provider.ledger.get("contact:1").state is RecordState.DONE


def test_within_the_window_the_lost_answer_is_resent_and_replayed(
    rig: Rig, membership: InvoiceRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pause that leaves Xero's key in place changes nothing: one call, one invoice."""
    drop_after_once(rig, "PUT", r"/Invoices$")
    pause_in_first_backoff(rig, monkeypatch, RESEND_WITHIN - 10)
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert [i["InvoiceID"] for i in rig.emulator.books().invoices] == [invoice.provider_id]
    puts = [c for c in rig.emulator.calls if c.endpoint == "PUT /Invoices"]
    assert [(c.dropped, c.replayed) for c in puts] == [(True, False), (False, True)]


def test_a_write_xero_refused_is_resent_after_a_long_pause(
    rig: Rig, membership: InvoiceRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only an outcome that may have been applied stops the resend: a 429 refused the call
    before doing anything, so there is nothing to duplicate."""
    rig.emulator.add_fault(
        FaultRule(FaultKind.RATE_LIMIT_MINUTE, method="PUT", path=r"/Invoices$", count=1)
    )
    pause_in_first_backoff(rig, monkeypatch, past_the_window(rig))
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert [i["InvoiceID"] for i in rig.emulator.books().invoices] == [invoice.provider_id]
