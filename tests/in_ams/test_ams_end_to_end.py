"""The AMS itself, migrated to ams-billing, billing its members through Xero (the emulator).

Run by ``nox -s ams`` inside a patched copy of the AMS, with its own settings, models and
services, on PostgreSQL. The AMS is served by a real HTTP server (pytest-django's
``live_server``); the emulator is served on another loopback port and calls the AMS back with
signed webhooks. Nothing here stubs the AMS or ams-billing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from ams.billing.exceptions import BillingInvoiceError
from ams.billing.models import Invoice
from ams.billing.providers.xero.models import XeroContact
from ams.billing.services import get_billing_service
from ams.billing.services.membership import MembershipBillingService
from ams.billing.tests.factories import AccountFactory
from ams.memberships.models import MembershipStatus
from ams.memberships.tests.factories import IndividualMembershipFactory, MembershipOptionFactory
from django.db import connection, transaction
from django.utils import timezone

from ams_billing.contrib.ams import XeroBillingService
from ams_billing.contrib.django.processing import get_processor
from ams_billing.emulators.xero import FaultKind, FaultRule, XeroEmulator

pytestmark = pytest.mark.django_db(transaction=True)

WEBHOOK_PATH = "/billing/xero/webhooks/"
AMS_ROOT = Path(__file__).resolve().parent.parent


def _new_member(cost: str = "120.00"):
    account = AccountFactory(user_account=True)
    option = MembershipOptionFactory(cost=Decimal(cost), invoice_reference="MEMBERSHIP")
    membership = IndividualMembershipFactory(
        user=account.user, membership_option=option, approved_datetime=None
    )
    return account, option, membership


def _bill(account, option, membership) -> Invoice:
    invoice = MembershipBillingService().create_membership_invoice(
        account, option, membership=membership
    )
    assert invoice is not None
    return invoice


def _xero_invoice(emulator: XeroEmulator, invoice_id: str) -> dict:
    (found,) = [i for i in emulator.books().invoices if i["InvoiceID"] == invoice_id]
    return found


def _xero_calls(emulator: XeroEmulator) -> list[str]:
    return [f"{c.method} {c.path}" for c in emulator.calls]


def test_the_guides_class_path_is_ams_billing(emulator: XeroEmulator) -> None:
    service = get_billing_service()
    assert isinstance(service, XeroBillingService)
    assert type(service).__module__ == "ams_billing.contrib.ams.service"


def test_a_new_member_is_billed_and_a_paid_webhook_makes_the_membership_active(
    emulator: XeroEmulator, live_server
) -> None:
    account, option, membership = _new_member()
    url = live_server.url + WEBHOOK_PATH
    emulator.set_webhook_target(url)
    assert emulator.intent_to_receive(url).passed

    invoice = _bill(account, option, membership)

    contact_id = XeroContact.objects.get(account=account).contact_id
    billed = _xero_invoice(emulator, invoice.billing_service_invoice_id)
    assert billed["Contact"]["ContactID"] == contact_id
    assert billed["Status"] == "AUTHORISED"
    assert billed["LineAmountTypes"] == "Inclusive"
    assert billed["CurrencyCode"] == "NZD"
    assert billed["Reference"] == "MEMBERSHIP"
    assert [
        (line["AccountCode"], Decimal(str(line["UnitAmount"]))) for line in billed["LineItems"]
    ] == [("200", Decimal("120.00"))]
    assert invoice.amount == Decimal("120.00")
    assert invoice.due == Decimal("120.00")
    calls = _xero_calls(emulator)
    assert any(c.endswith(f"/Invoices/{invoice.billing_service_invoice_id}/Email") for c in calls)
    pay_link = get_billing_service().get_invoice_url(invoice)
    assert pay_link
    assert pay_link.startswith("https://in.xero.com/")
    print(f"\nXero calls to bill one new member: {len(calls)}: {calls}")

    membership.refresh_from_db()
    assert membership.status() == MembershipStatus.PENDING

    emulator.record_payment(invoice.billing_service_invoice_id, Decimal("120.00"))
    results = emulator.deliver_webhooks(force=True)
    assert [r.status for r in results] == [200]
    assert get_processor().drain(timeout=30)

    membership.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.paid_date is not None
    assert invoice.due == 0
    assert membership.status() == MembershipStatus.ACTIVE


def test_a_renewing_member_is_billed_on_the_same_contact(emulator: XeroEmulator) -> None:
    account, option, membership = _new_member()
    first = _bill(account, option, membership)
    before = len(emulator.calls)
    renewal = IndividualMembershipFactory(
        user=account.user, membership_option=option, approved_datetime=None
    )
    second = _bill(account, option, renewal)
    assert second.pk != first.pk
    assert XeroContact.objects.filter(account=account).count() == 1
    assert _xero_invoice(emulator, second.billing_service_invoice_id)["Contact"]["ContactID"] == (
        XeroContact.objects.get(account=account).contact_id
    )
    calls = _xero_calls(emulator)[before:]
    assert not any(c.startswith("POST /connect/token") for c in calls), "a token per member"
    print(f"\nXero calls to bill one renewing member: {len(calls)}: {calls}")


def _invoice_creates(emulator: XeroEmulator) -> list[str]:
    return [c for c in _xero_calls(emulator) if c == "PUT /api.xro/2.0/Invoices"]


def test_a_create_whose_responses_were_lost_is_retried_into_one_invoice(
    emulator: XeroEmulator,
) -> None:
    account, option, membership = _new_member()
    # Xero applies the create, then the connection drops, every time the provider retries.
    emulator.add_fault(FaultRule(FaultKind.DROP_AFTER, method="PUT", path="/Invoices$", count=20))
    with pytest.raises(BillingInvoiceError):
        _bill(account, option, membership)
    assert not Invoice.objects.filter(account=account).exists()
    assert len(_invoice_creates(emulator)) > 1

    emulator.clear_faults()
    invoice = _bill(account, option, membership)  # the member submits again

    live = [i for i in emulator.books().invoices if i["Status"] != "DELETED"]
    assert [i["InvoiceID"] for i in live] == [invoice.billing_service_invoice_id]
    assert Invoice.objects.filter(account=account).count() == 1


def test_a_create_rolled_back_in_the_ams_is_retried_into_one_invoice(
    emulator: XeroEmulator,
) -> None:
    account, _, _ = _new_member()
    service = get_billing_service()
    service.update_user_billing_details(account.user)
    lines = [{"description": "Annual", "unit_amount": Decimal("120.00"), "quantity": 1}]
    day = timezone.localdate()

    def bill_then_die() -> None:
        with transaction.atomic():
            service.create_invoice(account, day, day, lines, "MEMBERSHIP")
            raise RuntimeError("the request died after Xero answered")

    with pytest.raises(RuntimeError):
        bill_then_die()
    assert not Invoice.objects.filter(account=account).exists()

    row = get_billing_service().create_invoice(account, day, day, lines, "MEMBERSHIP")

    assert len(_invoice_creates(emulator)) == 1
    assert Invoice.objects.get(account=account).pk == row.pk


def test_a_second_identical_purchase_after_a_first_is_billed_again(
    emulator: XeroEmulator,
) -> None:
    account, _, _ = _new_member()
    service = get_billing_service()
    service.update_user_billing_details(account.user)
    seat = [{"description": "One more seat", "unit_amount": Decimal("40.00"), "quantity": 1}]
    day = timezone.localdate()
    first = service.create_invoice(account, day, day, seat, "SEATS")
    second = service.create_invoice(account, day, day, seat, "SEATS")
    assert first.billing_service_invoice_id != second.billing_service_invoice_id
    assert len(_invoice_creates(emulator)) == 2


def test_a_forged_webhook_gets_401(emulator: XeroEmulator, live_server) -> None:
    body = b'{"events":[],"firstEventSequence":1,"lastEventSequence":1,"entropy":"X"}'
    response = httpx.post(
        live_server.url + WEBHOOK_PATH,
        content=body,
        headers={"x-xero-signature": "Zm9yZ2Vk", "content-type": "application/json"},
    )
    assert response.status_code == 401
    assert response.content == b""


def _manage(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["POSTGRES_DB"] = connection.settings_dict["NAME"]  # the test database
    env["DJANGO_SETTINGS_MODULE"] = "ams_billing_e2e.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=AMS_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_payment_whose_webhook_never_came_is_caught_by_fetch_invoice_updates(
    emulator: XeroEmulator,
) -> None:
    account, option, membership = _new_member()
    invoice = _bill(account, option, membership)
    emulator.record_payment(invoice.billing_service_invoice_id, Decimal("120.00"))  # no webhook
    # The AMS's recovery: its admin action "mark update needed" (or an earlier webhook).
    Invoice.objects.filter(pk=invoice.pk).update(update_needed=True)

    done = _manage("fetch_invoice_updates")
    assert done.returncode == 0, done.stderr
    assert "Updated 1 invoice(s)" in done.stdout, done.stdout

    membership.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.paid_date is not None
    assert not invoice.update_needed
    assert membership.status() == MembershipStatus.ACTIVE


def test_ams_billing_sync_catches_a_payment_with_no_webhook_and_no_mark(
    emulator: XeroEmulator,
) -> None:
    account, option, membership = _new_member()
    invoice = _bill(account, option, membership)
    emulator.record_payment(invoice.billing_service_invoice_id, Decimal("120.00"))

    done = _manage("ams_billing_sync", "--id", invoice.billing_service_invoice_id)
    assert done.returncode == 0, done.stdout + done.stderr

    membership.refresh_from_db()
    assert membership.status() == MembershipStatus.ACTIVE
