"""The Django ledger's key lock: another holder waits a bounded time, then gets a retryable error.

On this run's database: a SQLite file (file locks beside it), or PostgreSQL (advisory locks)
when test_django_postgres.py runs this folder again. "Another holder" is another thread: the
store locks on a connection (or file descriptor) of its own, as another process would.
"""

from __future__ import annotations

import pytest

from ams_billing.contrib.django.stores import DjangoIdempotencyStore
from ams_billing.core.errors import ProviderUnavailableError
from ams_billing.core.ledger import KeyLockingStore
from lock_helpers import in_another_thread

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_held_key_keeps_others_out_for_a_bounded_time_then_frees() -> None:
    store = DjangoIdempotencyStore()
    store.lock_timeout = 0.3
    assert isinstance(store, KeyLockingStore)
    with store.lock("invoice:1"), store.lock("invoice:1"):  # a thread retakes its own lock
        error = in_another_thread(store, "invoice:1")
        assert isinstance(error, ProviderUnavailableError)
        assert error.retryable
    assert in_another_thread(store, "invoice:1") is None
