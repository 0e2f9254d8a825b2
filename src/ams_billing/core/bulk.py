"""How :class:`~ams_billing.core.service.BillingService` runs a batch over one provider.

1. Each item is checked on its own: a bad key or a request of the wrong type fails that item
   (``items[<i>].idempotency_key``) and no other.
2. A key given twice in one batch is sent once; the later items get the first one's result as
   ``EXISTING`` (same request) or an :class:`~ams_billing.core.errors.IdempotencyConflictError`
   (a different request).
3. The rest go to the provider's bulk hook when it has one; otherwise the single-item hook is
   called once per item, each failure caught for its item. A bulk hook that raises fails every
   item it was given with that error (retrying them with the same keys is safe).
4. Validation errors are renamed to point at the item: ``items[<i>].<field>``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import pluggy

from ams_billing.core.batch import BatchItem, BatchOutcome, BatchResult, name_item
from ams_billing.core.errors import (
    BillingError,
    IdempotencyConflictError,
    ProviderUnavailableError,
    UnsupportedOperationError,
    ValidationError,
)

__all__ = ["BatchRunner", "SeenIds", "check_key"]

MAX_KEY_LENGTH = 128


def check_key(key: object) -> None:
    """Raise a ValidationError unless ``key`` is 1 to 128 characters of text."""
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise ValidationError.for_field(
            "idempotency_key",
            "must be 1 to 128 characters",
            "derive it from your own record id, e.g. 'invoice:<membership uuid>'",
        )


class SeenIds:
    """A bounded memory of provider ids this service has returned from creates."""

    def __init__(self, limit: int = 100_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._limit = limit

    def __contains__(self, provider_id: object) -> bool:
        return provider_id in self._ids

    def add(self, provider_id: str) -> None:
        """Remember ``provider_id`` (the oldest are forgotten beyond the limit)."""
        self._ids[provider_id] = None
        self._ids.move_to_end(provider_id)
        while len(self._ids) > self._limit:
            self._ids.popitem(last=False)


@attrs.frozen
class BatchRunner:
    """One bulk operation: its hooks, its request type and how to tell a known record."""

    pm: pluggy.PluginManager
    bulk_hook: str
    single_hook: str
    argument: str
    model: type[Any]
    known: Callable[[str], bool]
    remember: Callable[[str], None]
    check: Callable[[Any], None] | None = None
    """Raises ValidationError for a request the facade refuses before any call (as the single
    operation does); the item fails, named, and the others go on."""

    def run(self, items: Iterable[BatchItem[Any]]) -> list[BatchResult[Any]]:
        """Run the batch; one result per item, in input order, never raising BillingError."""
        batch = list(items)
        results: list[BatchResult[Any] | None] = [None] * len(batch)
        raw_errors: dict[int, BillingError] = {}
        first: dict[str, int] = {}
        send: list[int] = []
        for index, item in enumerate(batch):
            problem = self._problem(item)
            if problem is not None:
                key = getattr(item, "idempotency_key", "")
                results[index] = _failed(index, key if isinstance(key, str) else "", problem)
            elif item.idempotency_key not in first:
                first[item.idempotency_key] = index
                send.append(index)
        for index, result in zip(send, self._send([batch[i] for i in send]), strict=True):
            if result.error is not None:
                raw_errors[index] = result.error
            results[index] = attrs.evolve(
                result,
                index=index,
                idempotency_key=batch[index].idempotency_key,
                error=name_item(result.error, index) if result.error is not None else None,
            )
        for index, item in enumerate(batch):
            if results[index] is None:
                results[index] = self._duplicate(
                    index, item, batch=batch, first=first, results=results, raw_errors=raw_errors
                )
        return [result for result in results if result is not None]

    def _problem(self, item: object) -> BillingError | None:
        if not isinstance(item, BatchItem):
            return ValidationError.for_field(
                "$", f"expected a BatchItem, got {type(item).__name__}", "wrap it in BatchItem"
            )
        if not isinstance(item.request, self.model):
            return ValidationError.for_field(
                "request",
                f"expected a {self.model.__name__}, got {type(item.request).__name__}",
            )
        try:
            check_key(item.idempotency_key)
            if self.check is not None:
                self.check(item.request)
        except ValidationError as error:
            return error
        return None

    def _duplicate(
        self,
        index: int,
        item: BatchItem[Any],
        *,
        batch: Sequence[BatchItem[Any]],
        first: dict[str, int],
        results: Sequence[BatchResult[Any] | None],
        raw_errors: dict[int, BillingError],
    ) -> BatchResult[Any]:
        origin = first[item.idempotency_key]
        key = item.idempotency_key
        if batch[origin].request != item.request:
            detail = f" (item {origin} of this batch)"
            return _failed(index, key, IdempotencyConflictError(key, detail))
        earlier = results[origin]
        if earlier is None or earlier.error is not None:
            error = raw_errors.get(origin) or ProviderUnavailableError("the item failed")
            return _failed(index, key, error)
        return BatchResult(index, key, BatchOutcome.EXISTING, result=earlier.result)

    def _send(self, items: list[BatchItem[Any]]) -> list[BatchResult[Any]]:
        if not items:
            return []
        hook = getattr(self.pm.hook, self.bulk_hook)
        if any(not (impl.wrapper or impl.hookwrapper) for impl in hook.get_hookimpls()):
            try:
                answer = hook(items=items)
            except BillingError as error:
                return [_raw(i, item.idempotency_key, error) for i, item in enumerate(items)]
            if answer is not None:
                return self._checked(items, list(answer))
        return [self._single(index, item) for index, item in enumerate(items)]

    def _checked(
        self, items: list[BatchItem[Any]], answer: list[BatchResult[Any]]
    ) -> list[BatchResult[Any]]:
        by_index = {result.index: result for result in answer}
        if len(answer) != len(items) or set(by_index) != set(range(len(items))):
            error = ProviderUnavailableError(
                f"the provider answered {len(answer)} results for {len(items)} items; "
                "retry the batch with the same keys",
            )
            return [_raw(i, item.idempotency_key, error) for i, item in enumerate(items)]
        ordered = [by_index[index] for index in range(len(items))]
        for result in ordered:
            if result.ok and result.result is not None:
                self.remember(result.result.provider_id)
        return ordered

    def _single(self, index: int, item: BatchItem[Any]) -> BatchResult[Any]:
        key = item.idempotency_key
        try:
            value = getattr(self.pm.hook, self.single_hook)(
                **{self.argument: item.request, "idempotency_key": key}
            )
            if value is None:
                raise UnsupportedOperationError(
                    f"the provider returned nothing for {self.single_hook}",
                    capability=self.single_hook,
                )
        except BillingError as error:
            return _raw(index, key, error)
        existed = self.known(value.provider_id)
        self.remember(value.provider_id)
        outcome = BatchOutcome.EXISTING if existed else BatchOutcome.CREATED
        return BatchResult(index, key, outcome, result=value)


def _raw(index: int, key: str, error: BillingError) -> BatchResult[Any]:
    return BatchResult(index, key, BatchOutcome.FAILED, error=error)


def _failed(index: int, key: str, error: BillingError) -> BatchResult[Any]:
    return _raw(index, key, name_item(error, index))
