"""The AMS itself, migrated to ams-billing, billing its members through Stripe (the emulator).

Run by ``nox -s ams`` inside a patched copy of the AMS, beside the Xero run
(test_ams_end_to_end.py), with the same factories, services and real servers: the AMS served by
pytest-django's ``live_server``, the Stripe emulator on another loopback port, delivering its
signed events to the AMS's ``/billing/stripe/webhooks/``. The AMS's ``BILLING_SERVICE_CLASS``
names the migration's ``ams.billing.providers.stripe.StripeBillingService``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from ams.billing.models import Invoice
from ams.billing.providers.xero.models import XeroContact
from ams.billing.services import get_billing_service
from ams.billing.services.membership import MembershipBillingService
from ams.billing.tests.factories import AccountFactory
from ams.memberships.models import MembershipStatus
from ams.memberships.tests.factories import IndividualMembershipFactory, MembershipOptionFactory
from django.db import connection

from ams_billing.contrib.ams import StripeBillingService
from ams_billing.contrib.django.models import InboxEntryRow
from ams_billing.contrib.django.processing import get_processor

pytestmark = pytest.mark.django_db(transaction=True)

WEBHOOK_PATH = "/billing/stripe/webhooks/"
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


def _signed(body: bytes, secret: str, at: int) -> dict[str, str]:
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={at},v1={mac}", "Content-Type": "application/json"}


def _paid_event(stripe, invoice_id: str) -> bytes:
    """An ``invoice.paid`` event for a real invoice, as Stripe would send it once paid."""
    snapshot = dict(stripe.get(f"/v1/invoices/{invoice_id}"))
    snapshot |= {"status": "paid", "amount_paid": snapshot["amount_due"], "amount_remaining": 0}
    event = {
        "id": "evt_forged000000000000000000",
        "object": "event",
        "type": "invoice.paid",
        "created": int(time.time()),
        "livemode": False,
        "api_version": snapshot.get("api_version"),
        "data": {"object": snapshot},
    }
    return json.dumps(event).encode()


def test_the_migrations_stripe_class_path_is_ams_billing(stripe) -> None:
    service = get_billing_service()
    assert isinstance(service, StripeBillingService)
    assert type(service).__module__ == "ams_billing.contrib.ams.stripe"


def test_a_new_member_is_billed_on_stripe_and_a_paid_event_makes_the_membership_active(
    stripe, live_server
) -> None:
    stripe.register_webhook(live_server.url + WEBHOOK_PATH)
    account, option, membership = _new_member()
    before = len(stripe.calls())

    invoice = _bill(account, option, membership)

    calls = stripe.calls()[before:]  # the AMS's own calls, before the test's reads below
    billed = stripe.get(f"/v1/invoices/{invoice.billing_service_invoice_id}")
    assert billed["status"] == "open"
    assert billed["currency"] == "nzd"
    assert billed["amount_due"] == 12000  # 120.00 NZD in cents
    customer = stripe.get(f"/v1/customers/{billed['customer']}")
    assert customer["metadata"]
    assert str(account.user.uuid) in json.dumps(customer["metadata"])
    assert not XeroContact.objects.filter(account=account).exists()
    assert invoice.amount == Decimal("120.00")
    assert invoice.due == Decimal("120.00")
    sent = stripe.events("invoice.sent")
    assert [e["data"]["object"]["id"] for e in sent] == [invoice.billing_service_invoice_id]
    pay_link = get_billing_service().get_invoice_url(invoice)
    assert pay_link == billed["hosted_invoice_url"]
    print(f"\nStripe calls to bill one new member: {len(calls)}: {calls}")

    membership.refresh_from_db()
    assert membership.status() == MembershipStatus.PENDING

    stripe.pay_out_of_band(invoice.billing_service_invoice_id)
    delivered = {a.event_type: a.status for a in stripe.deliver()}
    assert 200 <= (delivered["invoice.paid"] or 0) < 300, delivered
    assert get_processor().drain(timeout=30)

    membership.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.paid_date is not None
    assert invoice.due == 0
    assert invoice.paid == Decimal("120.00")
    assert membership.status() == MembershipStatus.ACTIVE


def test_a_forged_or_expired_event_is_refused_with_401_and_changes_nothing(
    stripe, live_server
) -> None:
    stripe.register_webhook(live_server.url + WEBHOOK_PATH)
    account, option, membership = _new_member()
    invoice = _bill(account, option, membership)
    body = _paid_event(stripe, invoice.billing_service_invoice_id)
    kept = InboxEntryRow.objects.count()
    now = int(time.time())

    refused = {
        "forged": _signed(body, "whsec_forged", now),
        "expired": _signed(body, stripe.webhook_secret, now - 3600),
        "unsigned": {"Content-Type": "application/json"},
    }
    for name, headers in refused.items():
        answer = httpx.post(live_server.url + WEBHOOK_PATH, content=body, headers=headers)
        assert answer.status_code == 401, (name, answer.status_code)
    assert get_processor().drain(timeout=30)

    assert InboxEntryRow.objects.count() == kept
    membership.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.paid_date is None
    assert invoice.due == Decimal("120.00")
    assert membership.status() == MembershipStatus.PENDING


def test_the_guides_xero_route_answers_421_while_the_ams_bills_through_stripe(
    stripe, live_server
) -> None:
    answer = httpx.post(
        live_server.url + "/billing/xero/webhooks/",
        content=b'{"events":[]}',
        headers={"x-xero-signature": "Zm9yZ2Vk"},
    )
    assert answer.status_code == 421


def _manage(stripe, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ) | stripe.environment()
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


def test_ams_billing_sync_catches_a_stripe_payment_whose_event_never_came(stripe) -> None:
    account, option, membership = _new_member()
    invoice = _bill(account, option, membership)
    stripe.pay_out_of_band(invoice.billing_service_invoice_id)  # no endpoint: no delivery

    done = _manage(stripe, "ams_billing_sync", "--id", invoice.billing_service_invoice_id)
    assert done.returncode == 0, done.stdout + done.stderr

    membership.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.paid_date is not None
    assert membership.status() == MembershipStatus.ACTIVE
