"""Skipping what a provider does not offer, with a reason, and probing that it says so.

A provider declares its optional operations through ``service.capabilities``; the suite skips
the tests of an absent capability (naming it) and runs instead a test that the operation raises
:class:`~ams_billing.core.errors.UnsupportedOperationError`. Fault injection is optional for
test drivers: the fault tests skip unless the driver implements
:class:`~ams_billing.testing.harness.FaultInjector`, the restart tests unless the harness
has a ``restart``, and the key-expiry tests unless it has an ``expire_remote_keys``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from ams_billing.core.models import Capability, Invoice
from ams_billing.testing.harness import (
    ContractHarness,
    DraftMaker,
    EmailCounter,
    ExpireKeys,
    FaultInjector,
    IntentToReceiveSigner,
    Restart,
    WebhookSigner,
)

__all__ = [
    "PROBES",
    "require_capability",
    "require_draft_maker",
    "require_email_counter",
    "require_fault_injector",
    "require_intent_to_receive",
    "require_key_expiry",
    "require_no_capability",
    "require_other_currencies",
    "require_restart",
    "require_signature_tolerance",
    "require_snapshot_events",
    "require_webhook_signer",
]


def require_capability(harness: ContractHarness, capability: Capability) -> None:
    """Skip the calling test unless the provider offers ``capability``."""
    if capability not in harness.service.capabilities:
        pytest.skip(
            f"the provider does not offer {capability.name} (it is absent from "
            "service.capabilities); test_absent_capability_is_unsupported checks that instead"
        )


def require_no_capability(harness: ContractHarness, capability: Capability) -> None:
    """Skip the calling test if the provider offers ``capability``."""
    if capability in harness.service.capabilities:
        pytest.skip(f"the provider offers {capability.name}; its own tests cover it")


def require_fault_injector(harness: ContractHarness) -> FaultInjector:
    """Return the driver as a fault injector, or skip the calling test."""
    driver = harness.driver
    if not isinstance(driver, FaultInjector):
        pytest.skip(
            f"the test driver {type(driver).__qualname__} has no fault injection "
            "(implement ams_billing.contracts.FaultInjector.fail_next to run the fault tests)"
        )
    return driver


def require_email_counter(harness: ContractHarness) -> EmailCounter:
    """Return the driver as an email counter, or skip the calling test."""
    driver = harness.driver
    if not isinstance(driver, EmailCounter):
        pytest.skip(
            f"the test driver {type(driver).__qualname__} counts no emails (implement "
            "ams_billing.contracts.EmailCounter.count_emails_sent to run the email-count tests)"
        )
    return driver


def require_webhook_signer(harness: ContractHarness) -> WebhookSigner:
    """Return the driver as a webhook signer, or skip the calling test."""
    driver = harness.driver
    if not isinstance(driver, WebhookSigner):
        pytest.skip(
            f"the test driver {type(driver).__qualname__} signs no bodies of its own (implement "
            "ams_billing.contracts.WebhookSigner to run the signed-body tests)"
        )
    return driver


def require_intent_to_receive(harness: ContractHarness) -> IntentToReceiveSigner:
    """Return the driver as a signer of empty deliveries, or skip the calling test.

    Skips unless the provider declares ``behaviour.webhooks.intent_to_receive`` (Xero's
    check; most providers have none), then unless the driver signs empty deliveries.
    """
    if not harness.service.behaviour.webhooks.intent_to_receive:
        pytest.skip(
            "the provider declares no Intent-to-Receive check (behaviour.webhooks."
            "intent_to_receive is false), so empty deliveries are not part of its contract"
        )
    driver = harness.driver
    if not isinstance(driver, IntentToReceiveSigner):
        pytest.skip(
            f"the test driver {type(driver).__qualname__} signs no empty delivery (implement "
            "ams_billing.contracts.IntentToReceiveSigner to run the Intent-to-Receive test)"
        )
    return driver


def require_signature_tolerance(harness: ContractHarness) -> tuple[WebhookSigner, timedelta]:
    """Return the driver as a webhook signer and the declared tolerance, or skip.

    Skips unless the provider declares ``behaviour.webhooks.signature_tolerance`` (a time in
    its signatures, as Stripe's have), then unless the driver is a :class:`WebhookSigner`.
    """
    tolerance = harness.service.behaviour.webhooks.signature_tolerance
    if tolerance is None:
        pytest.skip(
            "the provider declares no signature_tolerance (its signatures carry no time, as "
            "Xero's do), so the tolerance and replay tests do not apply"
        )
    return require_webhook_signer(harness), tolerance


def require_snapshot_events(harness: ContractHarness) -> None:
    """Skip the calling test unless the provider declares ``snapshot_events``."""
    if not harness.service.behaviour.webhooks.snapshot_events:
        pytest.skip(
            "the provider declares no snapshot_events (its events carry no invoice state), "
            "so processing reads every invoice a delivery names"
        )


def require_draft_maker(harness: ContractHarness) -> DraftMaker:
    """Return the driver as a maker of DRAFT invoices, or skip the calling test."""
    driver = harness.driver
    if not isinstance(driver, DraftMaker):
        pytest.skip(
            f"the test driver {type(driver).__qualname__} makes no DRAFT invoices (implement "
            "ams_billing.contracts.DraftMaker.create_draft_invoice to run the DRAFT tests)"
        )
    return driver


def require_restart(harness: ContractHarness) -> Restart:
    """Return the harness's restart, or skip the calling test."""
    if harness.restart is None:
        pytest.skip(
            "the harness has no restart (set ContractHarness.restart to a callable that builds "
            "a new provider instance over the same durable stores to run the restart tests)"
        )
    return harness.restart


def require_key_expiry(harness: ContractHarness) -> ExpireKeys:
    """Return the harness's ``expire_remote_keys``, or skip the calling test."""
    if harness.expire_remote_keys is None:
        pytest.skip(
            "the harness cannot make the accounting system forget its idempotency keys without "
            "a restart (set ContractHarness.expire_remote_keys to a callable that moves the "
            "system past its key window, e.g. advances its clock, to run the key-expiry tests)"
        )
    return harness.expire_remote_keys


def require_other_currencies(harness: ContractHarness) -> tuple[str, ...]:
    """Return the harness's other currencies, or skip the calling test."""
    if not harness.other_currencies:
        pytest.skip(
            f"the harness names no other_currencies, so the suite bills only in {harness.currency}"
        )
    return harness.other_currencies


Probe = Callable[[ContractHarness, Invoice], object]
"""Calls the operation behind a capability, on an invoice the provider holds."""

PROBES: dict[Capability, Probe] = {
    Capability.SEND_INVOICE: lambda h, invoice: h.service.send_invoice(invoice),
    Capability.VOID_INVOICE: lambda h, invoice: h.service.void_invoice(invoice.provider_id),
    Capability.ONLINE_INVOICE_URL: lambda h, invoice: h.service.get_invoice_url(
        invoice.provider_id
    ),
    Capability.CHANGED_SINCE: lambda h, invoice: h.service.get_invoices_changed_since(
        datetime(2000, 1, 1, tzinfo=UTC)
    ),
    Capability.WEBHOOKS: lambda h, invoice: h.service.parse_webhook(b"{}", {}),
}
"""For each capability, the call that must raise UnsupportedOperationError when it is absent."""
