"""The ``fake`` provider: complete, in memory, thread-safe; for tests, demos and as the oracle.

Its books (:class:`FakeBooks`) can be shared by instances, as an accounting system's are by
the processes of an AMS; its idempotency ledger is in memory unless given a durable one.

Select it with ``AMS_BILLING_SERVICE_CLASS=fake`` or
``ams_billing.providers.fake.FakeProvider``.
"""

from typing import TYPE_CHECKING

from ams_billing.core.deprecation import moved
from ams_billing.providers.fake.books import FakeBooks
from ams_billing.providers.fake.provider import SIGNATURE_HEADER, FakePayment, FakeProvider

__all__ = ["SIGNATURE_HEADER", "FakeBooks", "FakePayment", "FakeProvider"]

# Old names, kept with a DeprecationWarning (issue 18). Type checkers see plain aliases, so
# code typed against the old names still checks; at run time each use warns.
if TYPE_CHECKING:
    FakeBillingService = FakeProvider
else:
    __getattr__ = moved(__name__, {"FakeBillingService": "ams_billing.providers.fake:FakeProvider"})
