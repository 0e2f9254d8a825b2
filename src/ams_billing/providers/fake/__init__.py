"""The ``fake`` provider: complete, in memory, thread-safe; for tests, demos and as the oracle.

Select it with ``AMS_BILLING_SERVICE_CLASS=fake`` or
``ams_billing.providers.fake.FakeBillingService``.
"""

from ams_billing.providers.fake.provider import SIGNATURE_HEADER, FakeBillingService, FakePayment

__all__ = ["SIGNATURE_HEADER", "FakeBillingService", "FakePayment"]
