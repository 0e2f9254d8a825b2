"""``ProviderContract``: the whole contract suite, for a provider author to subclass.

::

    from ams_billing.contracts import ContractHarness, ProviderContract

    class TestMyProvider(ProviderContract):
        def make_harness(self) -> ContractHarness:
            provider = MyProvider(sandbox=True)
            return ContractHarness(
                service=BillingService(provider),
                driver=MySandboxDriver(provider),
                currency="AUD",
                account_code="200",
                tax_rate=Decimal("0.10"),
            )

pytest then collects every contract test under ``TestMyProvider``; set
``provider_name = "NAME"`` (the provider's entry-point name) to have the loading tests build it
with ``load_service()`` too (they skip without it). Each mixin below is also
usable on its own (``class TestMyContacts(ContactContract)``) to run part of the suite. To
adjust one inherited test, override it in the subclass (call ``super()`` to keep it, or mark
it ``xfail(strict=True, reason=...)`` while a known gap is being fixed).
"""

from __future__ import annotations

from ams_billing.contracts.suites.bulk import BulkContract
from ams_billing.contracts.suites.capabilities import CapabilityContract
from ams_billing.contracts.suites.contacts import ContactContract
from ams_billing.contracts.suites.email import EmailContract
from ams_billing.contracts.suites.faults import FaultContract
from ams_billing.contracts.suites.invoices import InvoiceContract
from ams_billing.contracts.suites.key_expiry import KeyExpiryContract
from ams_billing.contracts.suites.keys import KeyContract
from ams_billing.contracts.suites.loading import LoadingContract
from ams_billing.contracts.suites.payments import PaymentContract
from ams_billing.contracts.suites.reads import ReadContract
from ams_billing.contracts.suites.restart import RestartContract
from ams_billing.contracts.suites.stateful import StatefulContract
from ams_billing.contracts.suites.webhook_secrecy import WebhookSecrecyContract
from ams_billing.contracts.suites.webhooks import WebhookContract

__all__ = [
    "BulkContract",
    "CapabilityContract",
    "ContactContract",
    "EmailContract",
    "FaultContract",
    "InvoiceContract",
    "KeyContract",
    "KeyExpiryContract",
    "LoadingContract",
    "PaymentContract",
    "ProviderContract",
    "ReadContract",
    "RestartContract",
    "StatefulContract",
    "WebhookContract",
    "WebhookSecrecyContract",
]


class ProviderContract(
    CapabilityContract,
    ContactContract,
    InvoiceContract,
    BulkContract,
    EmailContract,
    WebhookContract,
    WebhookSecrecyContract,
    ReadContract,
    PaymentContract,
    FaultContract,
    KeyContract,
    RestartContract,
    KeyExpiryContract,
    LoadingContract,
    StatefulContract,
):
    """Every contract test; implement :meth:`make_harness` to run them for your provider."""
