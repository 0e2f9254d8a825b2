"""The ``fake`` provider: complete, in memory, thread-safe; for tests, demos and as the oracle.

Its books (:class:`FakeBooks`) can be shared by instances, as an accounting system's are by
the processes of an AMS; its idempotency ledger is in memory unless given a durable one.

Select it with ``AMS_BILLING_SERVICE_CLASS=fake`` or
``ams_billing.providers.fake.FakeBillingService``.
"""

from ams_billing.providers.fake.books import FakeBooks
from ams_billing.providers.fake.provider import SIGNATURE_HEADER, FakeBillingService, FakePayment

__all__ = ["SIGNATURE_HEADER", "FakeBillingService", "FakeBooks", "FakePayment"]
