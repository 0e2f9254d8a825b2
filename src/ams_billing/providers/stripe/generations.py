"""Key generations: a new ``Idempotency-Key`` for a step after Stripe kept a 5xx under the old one.

Stripe stores the answer of a request that started executing, a 500 included, and replays it
to every request with the same key for 24 hours (the reference, 5 and 6.3). This provider's
keys are fixed by the caller's key and the step (:mod:`~ams_billing.providers.stripe.keys`),
so without more a stored 500 would block that step, and the member, for a day.

So every keyed write goes through :meth:`KeyGenerations.post`. When Stripe answers a 5xx that
it replayed (``Idempotent-Replayed: true``), or a 5xx it did not ask us not to retry and that
the transport's own retries did not get past, the step's **look-up** runs first: a read that is
consistent with the write (a list or a re-read, never search) of what the old key would have
made. Found: that object is the step's answer, nothing is sent again. Not found: the step's
generation is advanced in the durable ledger (under :data:`GENERATION_PREFIX`, so a restart
or another process sharing the ledger uses it too). After a replayed 5xx the step is sent at
once under the new key (up to :data:`MAX_GENERATIONS_PER_CALL` keys); after a 5xx Stripe did
not replay (it is failing now) the error reaches the caller, whose retry uses the new key.
A key is only replaced once the look-up proved nothing was made under it: never two objects.
A 5xx marked ``Stripe-Should-Retry: false`` keeps its key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ams_billing.core.errors import ProviderUnavailableError
from ams_billing.core.ledger import IdempotencyRecord, IdempotencyStore, RecordState
from ams_billing.providers.stripe.transport import Call, ServerFailureError, StripeHttp

__all__ = ["GENERATION_PREFIX", "MAX_GENERATIONS_PER_CALL", "KeyGenerations", "generation_key"]

GENERATION_PREFIX = "ams-billing/stripe/keygen/"
"""Where the ledger keeps the generation of a step's key (the step's key stem follows)."""

MAX_GENERATIONS_PER_CALL = 3
"""New keys one call may try before it gives up with a retryable error."""

_OPERATION = "stripe_key_generation"

logger = logging.getLogger("ams_billing.stripe")


def generation_key(stem: str, generation: int) -> str:
    """The step's key in ``generation`` (generation 0 is the stem itself, as before)."""
    return stem if generation == 0 else f"{stem}:g{generation}"


class KeyGenerations:
    """Sends keyed writes, moving a step to a new key after a stored 5xx proved harmless."""

    def __init__(self, http: StripeHttp, store: IdempotencyStore) -> None:
        self._http = http
        self._store = store

    def current(self, stem: str) -> int:
        """The generation the step's next request uses (0 when none was ever advanced)."""
        record = self._store.get(GENERATION_PREFIX + stem)
        if record is None or record.state is not RecordState.DONE or not record.result:
            return 0
        try:
            return max(0, int(record.result))
        except ValueError:
            return 0

    def advance(self, stem: str, past: int) -> int:
        """Record that the step moves on from generation ``past``; the new generation."""
        new = past + 1
        self._store.put(
            GENERATION_PREFIX + stem,
            IdempotencyRecord(_OPERATION, "", RecordState.DONE, str(new)),
        )
        return new

    def post(
        self,
        path: str,
        params: Any,
        *,
        stem: str,
        find: Callable[[], Any | None],
        **options: Any,
    ) -> Any:
        """POST under the step's current key; after a stored 5xx, look up, then a new key.

        :param find: what the step made under an earlier key, read consistently (``None``:
            nothing was made). A step that makes nothing (an update of fields to the same
            values) passes a look-up that always answers ``None``.
        """
        return self.post_fresh(path, params, stem=stem, find=find, **options)[0]

    def post_fresh(
        self,
        path: str,
        params: Any,
        *,
        stem: str,
        find: Callable[[], Any | None],
        **options: Any,
    ) -> tuple[Any, bool]:
        """:meth:`post`, and whether this call did the work.

        ``False`` when Stripe replayed an earlier call's answer under the key, or when the
        look-up found what an earlier key made.
        """
        failure: ServerFailureError | None = None
        for _ in range(MAX_GENERATIONS_PER_CALL):
            generation = self.current(stem)
            try:
                return self._http.post_fresh(
                    path, params, key=generation_key(stem, generation), **options
                )
            except ServerFailureError as error:
                if not error.replayed and error.should_retry is False:
                    raise
                failure = error
            found = find()
            if found is not None:
                return found, False
            new = self.advance(stem, generation)
            logger.warning(
                "Stripe kept a %s under the key of %s and nothing was made under it; "
                "the step moves to key generation %d",
                "replayed 5xx" if failure.replayed else "5xx",
                Call("POST", path).operation,
                new,
            )
            if not failure.replayed:
                # Stripe is failing, not replaying: the caller hears of it, and its retry
                # (this process or another, after a restart) uses the new key.
                raise failure
        raise ProviderUnavailableError(
            f"{failure}; Stripe failed under {MAX_GENERATIONS_PER_CALL} keys in a row, "
            "try again later"
        )
