"""Reconciling invoices in batches, resumably: what ``ams-billing sync`` runs.

Both modes go through :meth:`BillingService.sync_invoices`, so the service's tracker decides
what changed and its listeners hear of each change:

- **by ids**: the ids are synced ``batch_size`` at a time (the Xero provider reads 50 per
  request); after each batch the state file records the ids done, so a rerun of the same
  command skips them;
- **since a time**: ``get_invoices_changed_since`` lists the invoices (oldest change first),
  then they are synced by id ``batch_size`` at a time — a fresh read, so a change made while
  the run goes is not missed — and after each batch the high-water mark moves up to the last
  ``updated_at`` done. A rerun (``--since-last``, or the same ``--since``) starts there.

An interruption (Ctrl-C, a provider error) loses at most the batch in flight; listeners may
hear of that batch's changes again on the rerun, as they may from a webhook and a sync anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from ams_billing.cli.sync_state import IdRun, SinceRun, SyncState, ids_digest
from ams_billing.core.errors import BillingError
from ams_billing.core.models import InvoiceChange
from ams_billing.core.service import BillingService

__all__ = ["DEFAULT_BATCH_SIZE", "SyncOutcome", "Ticker", "sync_ids", "sync_since"]

DEFAULT_BATCH_SIZE = 50
"""Invoices per batch (and per state-file write): one Xero request by ids."""


class Ticker:
    """Progress callbacks (a rich progress bar in the command; nothing in tests)."""

    def start(self, total: int, description: str) -> None:
        """The run will handle ``total`` invoices."""

    def advance(self, count: int) -> None:
        """``count`` more invoices are done."""


@attrs.define
class SyncOutcome:
    """What a run did, whether it finished, and what stopped it if not."""

    mode: str
    total: int
    since: datetime | None = None
    started_from: datetime | None = None
    resumed: bool = False
    done_before: int = 0
    processed: int = 0
    batches: int = 0
    changes: list[InvoiceChange] = attrs.field(factory=list)
    interrupted: bool = False
    error: BillingError | None = None

    @property
    def completed(self) -> bool:
        """Whether every invoice of the run was synced."""
        return not self.interrupted and self.error is None


def _batches(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _run_batches(
    outcome: SyncOutcome,
    service: BillingService,
    batches: Sequence[Sequence[str]],
    after_batch: Callable[[int], None],
    ticker: Ticker,
) -> None:
    try:
        for index, batch in enumerate(batches):
            outcome.changes += service.sync_invoices(list(batch))
            after_batch(index)
            outcome.processed += len(batch)
            outcome.batches += 1
            ticker.advance(len(batch))
    except KeyboardInterrupt:
        outcome.interrupted = True
    except BillingError as error:
        outcome.error = error


def sync_ids(
    service: BillingService,
    state: SyncState,
    invoice_ids: Sequence[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    restart: bool = False,
    ticker: Ticker | None = None,
) -> SyncOutcome:
    """Sync ``invoice_ids``, skipping those an interrupted run of the same ids already did."""
    ticker = ticker or Ticker()
    ids = list(dict.fromkeys(invoice_ids))
    key = ids_digest(ids)
    outcome = SyncOutcome("ids", total=len(ids))
    run = state.id_run
    if run is not None and run.fingerprint == key and not restart:
        outcome.resumed = True
    else:
        run = IdRun(key, len(ids))
        state.id_run = run
        state.save()
    done = set(run.done)
    todo = [i for i in ids if i not in done]
    outcome.done_before = len(ids) - len(todo)
    ticker.start(len(ids), "syncing invoices by id")
    ticker.advance(outcome.done_before)
    batches = _batches(todo, batch_size)

    def record(index: int) -> None:
        run.done.extend(batches[index])
        state.save()

    _run_batches(outcome, service, batches, record, ticker)
    if outcome.completed:
        state.id_run = None
        state.save()
    return outcome


def sync_since(
    service: BillingService,
    state: SyncState,
    since: datetime,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    restart: bool = False,
    ticker: Ticker | None = None,
) -> SyncOutcome:
    """Sync every invoice changed at or after ``since``, resuming an interrupted run of it."""
    ticker = ticker or Ticker()
    outcome = SyncOutcome("since", total=0, since=since)
    run = state.since_run
    if run is not None and run.since == since and not restart:
        outcome.resumed = True
    else:
        run = SinceRun(since, since)
        state.since_run = run
        state.save()
    start = run.resume_from
    outcome.started_from = start
    try:
        listed = sorted(service.get_invoices_changed_since(start), key=lambda i: i.updated_at)
    except KeyboardInterrupt:
        outcome.interrupted = True
        return outcome
    except BillingError as error:
        outcome.error = error
        return outcome
    outcome.total = len(listed)
    ticker.start(len(listed), f"syncing invoices changed since {start.isoformat()}")
    size = max(1, batch_size)
    chunks = [listed[i : i + size] for i in range(0, len(listed), size)]
    batches = [[invoice.provider_id for invoice in chunk] for chunk in chunks]

    def record(index: int) -> None:
        mark = max(invoice.updated_at for invoice in chunks[index])
        run.resume_from = mark
        state.raise_mark(mark)
        state.save()

    _run_batches(outcome, service, batches, record, ticker)
    if outcome.completed:
        if not listed:
            state.raise_mark(start)
        state.since_run = None
        state.save()
    return outcome
