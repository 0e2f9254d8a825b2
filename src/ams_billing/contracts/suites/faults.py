"""Contract: failures before or after a change, and retries with the same key, never duplicate.

These tests run when the harness driver implements
:class:`~ams_billing.testing.harness.FaultInjector`; they skip (with the reason) otherwise.
Operations are named after their hooks (``create_invoice``, ``get_invoices`` …).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ams_billing.contracts.builders import create_invoice, invoice_request, make_contact, unique
from ams_billing.contracts.capabilities import require_capability, require_fault_injector
from ams_billing.contracts.case import ContractCase
from ams_billing.contracts.checks import invoices_with_reference
from ams_billing.core.errors import (
    AuthenticationError,
    BillingError,
    ProviderUnavailableError,
    RateLimitedError,
)
from ams_billing.core.models import Capability
from ams_billing.testing.harness import ContractHarness

__all__ = ["FaultContract"]

RATE_LIMIT_FAULTS = 20
"""Rate-limit faults queued at once: a provider that retries by itself must give up sooner."""


class FaultContract(ContractCase):
    """Lost requests, lost responses and rate limits."""

    def test_failed_create_creates_nothing_and_a_retry_succeeds_once(
        self, harness: ContractHarness
    ) -> None:
        faults = require_fault_injector(harness)
        anchor = create_invoice(harness)
        request = invoice_request(harness)
        key = unique("invoice")
        faults.fail_next(1, ProviderUnavailableError, operations=["create_invoice"])
        with pytest.raises(ProviderUnavailableError):
            harness.service.create_invoice(request, idempotency_key=key)
        since = anchor.updated_at - timedelta(seconds=1)
        if Capability.CHANGED_SINCE in harness.service.capabilities:
            assert invoices_with_reference(harness, since, request.reference) == []
        invoice = harness.service.create_invoice(request, idempotency_key=key)
        again = harness.service.create_invoice(request, idempotency_key=key)
        assert again.provider_id == invoice.provider_id
        if Capability.CHANGED_SINCE in harness.service.capabilities:
            found = invoices_with_reference(harness, since, request.reference)
            assert [i.provider_id for i in found] == [invoice.provider_id]

    def test_lost_response_then_retry_returns_the_first_invoice(
        self, harness: ContractHarness
    ) -> None:
        faults = require_fault_injector(harness)
        require_capability(harness, Capability.CHANGED_SINCE)
        anchor = create_invoice(harness)
        request = invoice_request(harness)
        key = unique("invoice")
        faults.fail_next(
            1, ProviderUnavailableError, operations=["create_invoice"], after_apply=True
        )
        with pytest.raises(ProviderUnavailableError):
            harness.service.create_invoice(request, idempotency_key=key)
        since = anchor.updated_at - timedelta(seconds=1)
        [created] = invoices_with_reference(harness, since, request.reference)
        retried = harness.service.create_invoice(request, idempotency_key=key)
        assert retried.provider_id == created.provider_id
        assert harness.service.create_invoice(request, idempotency_key=key).provider_id == (
            created.provider_id
        )
        found = invoices_with_reference(harness, since, request.reference)
        assert [i.provider_id for i in found] == [created.provider_id]

    def test_lost_contact_response_then_retry_keeps_one_contact(
        self, harness: ContractHarness
    ) -> None:
        faults = require_fault_injector(harness)
        contact = make_contact()
        key = unique("contact")
        faults.fail_next(
            1, ProviderUnavailableError, operations=["create_contact"], after_apply=True
        )
        with pytest.raises(ProviderUnavailableError):
            harness.service.create_contact(contact, idempotency_key=key)
        retried = harness.service.create_contact(contact, idempotency_key=key)
        fresh = harness.service.create_contact(contact, idempotency_key=unique("contact"))
        assert fresh.provider_id == retried.provider_id
        assert (retried.account_reference, retried.name) == (
            contact.account_reference,
            contact.name,
        )

    def test_lost_email_response_then_retry_returns_the_first_result(
        self, harness: ContractHarness
    ) -> None:
        faults = require_fault_injector(harness)
        require_capability(harness, Capability.SEND_INVOICE)
        invoice = create_invoice(harness)
        key = unique("email")
        faults.fail_next(1, ProviderUnavailableError, operations=["send_invoice"], after_apply=True)
        with pytest.raises(ProviderUnavailableError):
            harness.service.send_invoice(invoice, idempotency_key=key)
        result = harness.service.send_invoice(invoice, idempotency_key=key)
        assert (result.invoice_id, result.sent) == (invoice.provider_id, True)

    def test_rate_limited_error_carries_retry_after(self, harness: ContractHarness) -> None:
        faults = require_fault_injector(harness)
        invoice = create_invoice(harness)
        faults.fail_next(RATE_LIMIT_FAULTS, RateLimitedError, operations=["get_invoices"])
        with pytest.raises(RateLimitedError) as raised:
            harness.service.get_invoices([invoice.provider_id])
        retry_after = raised.value.retry_after
        assert retry_after is not None
        assert isinstance(retry_after, int | float)
        assert retry_after >= 0

    @pytest.mark.parametrize("operation", ["create_contact", "create_invoice"])
    @pytest.mark.parametrize(
        "error",
        [AuthenticationError, RateLimitedError, ProviderUnavailableError],
        ids=lambda error: error.__name__,
    )
    def test_documented_errors_reach_the_caller_as_themselves(
        self, harness: ContractHarness, operation: str, error: type[BillingError]
    ) -> None:
        # hookspecs.py: the credentials refused, the limit hit and the provider unreachable are
        # each raised as their own class, so the caller can tell a retry from a fix.
        faults = require_fault_injector(harness)
        count = RATE_LIMIT_FAULTS if error is RateLimitedError else 1
        faults.fail_next(count, error, operations=[operation])
        with pytest.raises(error):
            _create(harness, operation)


def _create(harness: ContractHarness, operation: str) -> object:
    if operation == "create_contact":
        return harness.service.create_contact(make_contact(), idempotency_key=unique("c"))
    return harness.service.create_invoice(invoice_request(harness), idempotency_key=unique("i"))
