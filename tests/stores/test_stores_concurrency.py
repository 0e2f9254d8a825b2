"""Several processes on one database: the database keeps them apart, not luck.

Each race runs in 4 spawned worker processes (a pool kept for the session) that wait on one
barrier and then race; no sleep synchronises anything, and every wait is bounded.
"""

from __future__ import annotations

import collections
import itertools
import threading
from datetime import UTC, datetime, timedelta

from stores_helpers import (
    NEWEST,
    SNAPSHOTS,
    RacePool,
    claim_until_empty,
    delivery,
    newness,
    open_at_once,
    race_put_if_newer,
    run_and_die,
)

from ams_billing.stores import SqlStores, head_revision, open_stores, schema_status

WORKERS = 4


def test_four_processes_draining_an_inbox_claim_every_entry_exactly_once(
    database_url: str, race_pool: RacePool
) -> None:
    with open_stores(database_url) as stores:
        added = {stores.inbox.add(delivery(number)) for number in range(200)}
        reports = race_pool.run(claim_until_empty, [(database_url, 3)] * WORKERS)
        claimed = [entry_id for report in reports for entry_id in report]
        duplicates = [i for i, count in collections.Counter(claimed).items() if count > 1]
        assert duplicates == []
        assert set(claimed) == added
        assert stores.inbox.pending() == 0
        assert sum(1 for report in reports if report) >= 2, "the workers did not overlap"


def test_four_processes_racing_put_if_newer_leave_the_newest_and_answer_consistently(
    database_url: str, race_pool: RacePool
) -> None:
    invoice_ids = [f"inv-{number}" for number in range(40)]
    open_stores(database_url).close()  # the schema
    reports = race_pool.run(
        race_put_if_newer,
        [(database_url, index, invoice_ids) for index in range(WORKERS)],
    )
    answers: dict[str, list[tuple[int, str, int | None]]] = collections.defaultdict(list)
    for index, per_invoice in reports:
        for invoice_id, outcome, replaced in per_invoice:
            answers[invoice_id].append((index, outcome, replaced))
    with open_stores(database_url, upgrade=False) as stores:
        for invoice_id in invoice_ids:
            assert len(answers[invoice_id]) == WORKERS
            assert stores.invoice_state.get(invoice_id) == SNAPSHOTS[NEWEST]
            stored = sorted(
                ((index, replaced) for index, outcome, replaced in answers[invoice_id]
                 if outcome == "stored"),
                key=lambda item: newness(SNAPSHOTS[item[0]]),
            )  # fmt: skip
            # The stores form one chain, oldest first: each replaced the store before it.
            assert stored[0][1] is None, answers[invoice_id]
            for (before, _), (_, replaced) in itertools.pairwise(stored):
                assert replaced == before, answers[invoice_id]
            assert stored[-1][0] == NEWEST, answers[invoice_id]  # the newest is never stale


def test_an_entry_whose_worker_process_died_is_claimed_again_after_its_lease(
    database_url: str,
) -> None:
    with open_stores(database_url) as stores:
        entry_ids = [stores.inbox.add(delivery(number)) for number in range(3)]
        report = run_and_die(database_url, 60.0)
        assert report == [(entry_id, 0) for entry_id in entry_ids]
        assert stores.inbox.claim(10, 60) == []  # the dead worker's lease still holds
        later = datetime.now(UTC) + timedelta(seconds=61)
    with open_stores(database_url, now=lambda: later) as stores:
        again = stores.inbox.claim(10, 60)
        assert [(entry.entry_id, entry.attempts) for entry in again] == [
            (entry_id, 1) for entry_id in entry_ids
        ]


def test_processes_opening_a_new_database_together_create_the_schema_once(
    database_url: str, race_pool: RacePool
) -> None:
    revisions = race_pool.run(open_at_once, [(database_url,)] * WORKERS)
    assert revisions == [head_revision()] * WORKERS
    with open_stores(database_url, upgrade=False) as stores:
        assert schema_status(stores.engine).current == head_revision()
        assert stores.inbox.pending() == WORKERS


def test_threads_sharing_one_stores_object_claim_each_entry_once(database_url: str) -> None:
    """The protocols ask for thread-safe stores: one engine, a connection per call."""
    with SqlStores.from_url(database_url) as stores:
        added = {stores.inbox.add(delivery(number)) for number in range(60)}
        claimed: list[list[str]] = [[] for _ in range(WORKERS)]
        start = threading.Barrier(WORKERS)

        def drain(mine: list[str]) -> None:
            start.wait(timeout=60)
            while entries := stores.inbox.claim(2, 600):
                mine.extend(entry.entry_id for entry in entries)
                stores.inbox.complete([entry.entry_id for entry in entries])

        threads = [threading.Thread(target=drain, args=(mine,)) for mine in claimed]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
        every = [entry_id for mine in claimed for entry_id in mine]
        assert sorted(every) == sorted(added)
