"""Run a write once per idempotency key: :class:`IdempotentCalls`, for every provider.

An accounting system remembers an idempotency key for minutes; the caller's promise ("a retry
with the same key never bills twice") lasts as long as the provider's ledger (an
:class:`~ams_billing.core.ledger.IdempotencyStore`). Every keyed write follows one routine:

1. **lock** the key: striped thread locks in this process, and the store's own cross-process
   lock when it offers one (:class:`~ams_billing.core.ledger.KeyLockingStore`);
2. **look it up** in the ledger: a key recorded for another request raises
   :class:`~ams_billing.core.errors.IdempotencyConflictError`;
3. **replay** a recorded outcome (``DONE``) without calling the system;
4. on a **pending** record (an earlier attempt ended with an unknown outcome) run the
   provider's **look-up** for what that attempt may have made, and adopt it if found;
5. **mark** the key pending, **call** the system, and
6. **record** the outcome, or, on an error, apply :data:`RULES`.

The rule for errors
-------------------

Leaving a key pending costs one look-up on the next attempt; forgetting a key whose write was
applied costs a duplicate invoice or email. So a key is forgotten only when the error proves
that the system applied nothing, and every other error leaves it pending. An error is never
recorded as the key's outcome: a retry sends the request again (a refused request is refused
again at no cost, and may succeed once the cause is fixed), and a corrected request may reuse
the key.

==============================  =============  ==============================================
Error                           The key        Why
==============================  =============  ==============================================
``ValidationError`` (and        forgotten      the system answered and refused the request's
``IdempotencyConflictError``)                  content: nothing was made; the caller may
                                               correct the request and reuse the key
``NotFoundError``               forgotten      the resource the write is about does not
                                               exist: there was nothing to apply it to
``InvalidStateError``           forgotten      the system refused the write in the
                                               resource's present state: nothing changed
``UnsupportedOperationError``   forgotten      the operation is not offered: nothing was sent
``ConfigurationError``          forgotten      the settings are wrong: nothing was sent
``ProviderUnavailableError``    left pending   network failure, timeout, 5xx, a lock not had:
                                               the write may have been applied
``RateLimitedError``            left pending   a 429 refuses one attempt only; an earlier
                                               attempt of the same call, retried after its
                                               answer was lost, may have been applied
``AuthenticationError``         left pending   the same: a token refused on the retry of an
                                               attempt whose answer was lost
anything else (any other        left pending   the outcome is unknown: an answer that cannot
exception, an interrupt)                       be read, a bug, the process being stopped
==============================  =============  ==============================================

A conflict found in the ledger (step 2) touches nothing: the record belongs to the other
request. A refusal a provider knows to come before anything was sent (a rate limit it
enforces itself, say) still leaves the key pending: the rule is by class, the same for every
operation, and the price is one look-up.

Example, a provider for a system with ``create_widget`` (a third party can copy it)::

    from ams_billing import IdempotentCalls, Outcome, OutcomeCodec

    class AcmeProvider:
        def __init__(self, *, idempotency_store=None):
            self._once = IdempotentCalls(idempotency_store)  # in memory when None

        @hookimpl
        def create_invoice(self, request, idempotency_key):
            return self._once.run(
                idempotency_key,
                "create_invoice",
                request,
                call=lambda: self._api.create_invoice(request, key=idempotency_key),
                codec=OutcomeCodec(
                    keep=lambda invoice: Outcome(invoice.provider_id),
                    replay=lambda record: self._api.get_invoice(record.result),
                ),
                # After an unknown outcome: what the lost attempt may have made, or None.
                find=lambda record: self._api.find_invoice(reference=request.reference),
            )

A batch uses the steps one by one: :meth:`IdempotentCalls.hold` on every key, then per item
:meth:`~IdempotentCalls.look_up`, :meth:`~IdempotentCalls.mark_pending`,
:meth:`~IdempotentCalls.record` or :meth:`~IdempotentCalls.settle`.
"""

from __future__ import annotations

import enum
import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import TYPE_CHECKING, Generic, TypeVar

import attrs

from ams_billing.core.deprecation import moved
from ams_billing.core.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidStateError,
    NotFoundError,
    ProviderUnavailableError,
    RateLimitedError,
    UnsupportedOperationError,
    ValidationError,
)
from ams_billing.core.ledger import (
    IdempotencyRecord,
    IdempotencyStore,
    InMemoryIdempotencyStore,
    KeyLockingStore,
    RecordState,
    fingerprints,
    same_request,
)

__all__ = [
    "RULES",
    "IdempotentCalls",
    "KeyEntry",
    "KeyLocks",
    "OnError",
    "Outcome",
    "OutcomeCodec",
    "rule_for",
]

T = TypeVar("T")

# Deprecated (issue 18): json_codec replays a result as first returned, which the contract
# forbids (see ams_billing.core.deprecated); kept at its old path with a warning.
if TYPE_CHECKING:
    from ams_billing.core.deprecated import json_codec  # noqa: F401 - the old path
else:
    __getattr__ = moved(__name__, {"json_codec": "ams_billing.core.deprecated"})


class OnError(enum.Enum):
    """What an error does to its key's pending record (see :data:`RULES`)."""

    FORGET = "forget"
    """The system certainly applied nothing: the record is deleted, the key is free again."""
    KEEP_PENDING = "keep pending"
    """The write may have been applied: the next attempt looks it up before calling again."""


RULES: tuple[tuple[type[BaseException], OnError], ...] = (
    (ValidationError, OnError.FORGET),
    (NotFoundError, OnError.FORGET),
    (InvalidStateError, OnError.FORGET),
    (UnsupportedOperationError, OnError.FORGET),
    (ConfigurationError, OnError.FORGET),
    (ProviderUnavailableError, OnError.KEEP_PENDING),
    (RateLimitedError, OnError.KEEP_PENDING),
    (AuthenticationError, OnError.KEEP_PENDING),
)
"""The rule per error class, first match wins; anything not listed keeps the key pending.

The module's docstring gives the reason for each row.
"""


def rule_for(error: BaseException) -> OnError:
    """What ``error``, raised by a keyed call, does to the key (:data:`RULES`)."""
    for error_class, rule in RULES:
        if isinstance(error, error_class):
            return rule
    return OnError.KEEP_PENDING


@attrs.frozen
class Outcome:
    """What the ledger keeps of a result: ``result`` (usually the id it made) and ``detail``."""

    result: str
    detail: str | None = None


@attrs.frozen
class OutcomeCodec(Generic[T]):
    """How a result is kept in the ledger (``keep``) and given back from it (``replay``).

    ``replay`` receives the ``DONE`` record; it may read the system (the invoice as it is now)
    or rebuild the result from the record alone.
    """

    keep: Callable[[T], Outcome]
    replay: Callable[[IdempotencyRecord], T]


@attrs.frozen
class KeyEntry:
    """One key as the ledger had it when looked up (:meth:`IdempotentCalls.look_up`)."""

    key: str
    operation: str
    fingerprint: str
    record: IdempotencyRecord | None

    @property
    def done(self) -> bool:
        """Whether the key has a recorded outcome, to replay."""
        return self.record is not None and self.record.state is RecordState.DONE

    @property
    def pending(self) -> bool:
        """Whether an earlier attempt ended with an unknown outcome."""
        return self.record is not None and self.record.state is RecordState.PENDING


class KeyLocks:
    """Serialises work on one key (striped locks: bounded memory, no cleanup needed).

    Within the process, striped thread locks. When ``store`` offers a cross-process lock
    (:class:`~ams_billing.core.ledger.KeyLockingStore`), that is held too, inside the thread
    lock: then a key is worked on by one process at a time, and the second finds the first
    one's outcome in the ledger.
    """

    def __init__(self, stripes: int = 64, *, store: IdempotencyStore | None = None) -> None:
        self._locks = tuple(threading.Lock() for _ in range(stripes))
        self._store: KeyLockingStore | None = store if isinstance(store, KeyLockingStore) else None

    def _stripe(self, key: str) -> int:
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        return int.from_bytes(digest[:4], "big") % len(self._locks)

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Hold the lock for ``key`` (and the store's, if it has one)."""
        with self.hold_many([key]):
            yield

    @contextmanager
    def hold_many(self, keys: Iterable[str]) -> Iterator[None]:
        """Hold the locks of every key of a batch (taken in one global order: no deadlock)."""
        keys = list(keys)
        with ExitStack() as stack:
            for stripe in sorted({self._stripe(key) for key in keys}):
                stack.enter_context(self._locks[stripe])
            if self._store is not None:
                stack.enter_context(self._store.lock(*keys))
            yield


class IdempotentCalls:
    """The idempotency routine over one ledger; see the module for the routine and its rule.

    :param store: the ledger (in memory when ``None``); a durable one
        (:class:`~ams_billing.stores.SqlIdempotencyStore`) keeps the promise across restarts
        and, as it locks keys across processes, across processes.
    :param namespace: prepended to every key in the store, for a store shared by what must not
        see each other's keys; errors still name the caller's key.
    :param stripes: the number of thread locks keys share within the process.
    """

    def __init__(
        self, store: IdempotencyStore | None = None, *, namespace: str = "", stripes: int = 64
    ) -> None:
        self.store: IdempotencyStore = InMemoryIdempotencyStore() if store is None else store
        self.namespace = namespace
        self.locks = KeyLocks(stripes, store=self.store)

    def __repr__(self) -> str:
        return f"<IdempotentCalls {self.store!r}>"

    def hold(self, *keys: str) -> AbstractContextManager[None]:
        """Hold the lock of every key (this process's, and the store's across processes)."""
        return self.locks.hold_many([self.namespace + key for key in keys])

    def look_up(self, key: str, operation: str, request: object) -> KeyEntry:
        """The ledger's record of ``key`` for this request; raise if it was for another one."""
        prints = fingerprints(operation, request)
        record = same_request(self.store.get(self.namespace + key), operation, prints, key)
        return KeyEntry(key, operation, prints[0], record)

    def mark_pending(self, entry: KeyEntry) -> None:
        """Record that a call for ``entry`` is about to be made (its outcome unknown till then)."""
        self.store.put(
            self.namespace + entry.key,
            IdempotencyRecord(entry.operation, entry.fingerprint, RecordState.PENDING),
        )

    def record(self, entry: KeyEntry, outcome: Outcome) -> None:
        """Record ``outcome`` as what ``entry``'s key did, to be replayed from now on."""
        self.store.put(
            self.namespace + entry.key,
            IdempotencyRecord(
                entry.operation,
                entry.fingerprint,
                RecordState.DONE,
                outcome.result,
                outcome.detail,
            ),
        )

    def settle(self, entry: KeyEntry, error: BaseException) -> OnError:
        """Apply the rule for ``error`` to the pending key of ``entry``; return the rule."""
        rule = rule_for(error)
        if rule is OnError.FORGET:
            self.store.delete(self.namespace + entry.key)
        return rule

    def run(
        self,
        key: str,
        operation: str,
        request: object,
        *,
        call: Callable[[], T],
        codec: OutcomeCodec[T],
        find: Callable[[IdempotencyRecord], T | None] | None = None,
    ) -> T:
        """Run ``call`` once for ``key`` and ``request``: the whole routine, under the key's lock.

        :param operation: names the operation in the ledger (a key reused for another
            operation conflicts).
        :param request: what the key is for (a core model or an id), fingerprinted.
        :param call: makes the write in the system and returns its result.
        :param codec: how the result is kept in the ledger and replayed from it.
        :param find: after an unknown outcome, what the lost attempt made (``None``: nothing);
            omit it only when calling again cannot duplicate (an upsert on a natural key).
        :raises IdempotencyConflictError: the key was used for another request.
        """
        with self.hold(key):
            entry = self.look_up(key, operation, request)
            record = entry.record
            if record is not None and record.state is RecordState.DONE:
                return codec.replay(record)
            if record is not None and find is not None:  # pending: an unknown outcome
                found = find(record)
                if found is not None:
                    self.record(entry, codec.keep(found))
                    return found
            self.mark_pending(entry)
            try:
                result = call()
            except BaseException as error:
                self.settle(entry, error)
                raise
            self.record(entry, codec.keep(result))
            return result
