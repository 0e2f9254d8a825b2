"""Real processes on one database: the inbox never gives one entry to two, no write is lost."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from racers import results, start
from test_django_stores import delivery

from ams_billing.contrib.django.stores import DjangoInvoiceStateStore, DjangoWebhookInbox

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_processes_claiming_from_one_inbox_never_get_the_same_entry(tmp_path: Path) -> None:
    inbox = DjangoWebhookInbox()
    kept = {inbox.add(delivery(f"inv-{n}", sequence=n)) for n in range(300)}
    go = tmp_path / "go"
    workers = [start("claim", str(go)) for _ in range(2)]
    go.touch()
    claimed = [results(worker) for worker in workers]
    every = [entry for got in claimed for entry in got]
    assert Counter(every).most_common(1)[0][1] == 1  # nobody got an entry twice
    assert set(every) == kept  # and together they took all of them
    assert inbox.claim(10, lease_seconds=300) == []


def test_processes_racing_put_if_newer_lose_no_write_and_never_go_backwards(
    tmp_path: Path,
) -> None:
    go = tmp_path / "go"
    # Interleaved timestamps: process A writes 0, 2, 4 ... and process B 1, 3, 5 ...
    workers = [start("states", str(go), str(first), "2", "60") for first in (0, 1)]
    go.touch()
    outcomes = [outcome for worker in workers for outcome in results(worker)]
    stored = DjangoInvoiceStateStore().get("race")
    assert stored is not None
    assert int(stored.amount_paid) == 119  # the newest of all
    replaced = [previous for _, previous in outcomes if previous != "stale"]
    # Each stored snapshot was replaced at most once, and only by a newer one: two writers
    # never both replaced the same state (a lost update), nor did an older write land later.
    assert len(replaced) == len(set(replaced))
    assert all(previous is None or previous < seconds for seconds, previous in outcomes
               if previous != "stale")  # fmt: skip
    written = {seconds for seconds, previous in outcomes if previous != "stale"}
    assert written - {119} == {previous for previous in replaced if previous is not None}
