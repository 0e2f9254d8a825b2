"""The zero-code run: ``pytest --pyargs ams_billing.contracts --billing-provider=NAME``.

The one test module of the suite. Each class runs one area of the contract (the mixins of
:mod:`ams_billing.contracts.suites`) against the provider named by ``--billing-provider``; without
that option every test here skips, saying how to give one. A provider's own tests subclass
:class:`~ams_billing.contracts.ProviderContract` instead.
"""

from __future__ import annotations

from ams_billing.contracts.case import CommandLineProvider
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

__all__: list[str] = []


class TestBulk(BulkContract, CommandLineProvider):
    """The bulk contract for the provider named by ``--billing-provider``."""


class TestCapabilities(CapabilityContract, CommandLineProvider):
    """The capability contract for the provider named by ``--billing-provider``."""


class TestContacts(ContactContract, CommandLineProvider):
    """The contact contract for the provider named by ``--billing-provider``."""


class TestEmail(EmailContract, CommandLineProvider):
    """The email contract for the provider named by ``--billing-provider``."""


class TestFaults(FaultContract, CommandLineProvider):
    """The fault contract for the provider named by ``--billing-provider``."""


class TestInvoices(InvoiceContract, CommandLineProvider):
    """The invoice contract for the provider named by ``--billing-provider``."""


class TestKeyExpiry(KeyExpiryContract, CommandLineProvider):
    """The key-expiry contract (no restart) for the provider named by ``--billing-provider``."""


class TestKeys(KeyContract, CommandLineProvider):
    """The idempotency-key contract for the provider named by ``--billing-provider``."""


class TestLoading(LoadingContract, CommandLineProvider):
    """The provider built by ``load_service()`` from the name given to ``--billing-provider``."""


class TestPayments(PaymentContract, CommandLineProvider):
    """The payment and void contract for the provider named by ``--billing-provider``."""


class TestReads(ReadContract, CommandLineProvider):
    """The read contract for the provider named by ``--billing-provider``."""


class TestRestart(RestartContract, CommandLineProvider):
    """The restart contract for the provider named by ``--billing-provider``."""


class TestStateful(StatefulContract, CommandLineProvider):
    """The comparison with the fake for the provider named by ``--billing-provider``."""


class TestWebhooks(WebhookContract, CommandLineProvider):
    """The webhook contract for the provider named by ``--billing-provider``."""


class TestWebhookSecrecy(WebhookSecrecyContract, CommandLineProvider):
    """What refused deliveries reveal, for the provider named by ``--billing-provider``."""
