"""Inbox leases: held until they run out or are released, on every backend."""

from __future__ import annotations

import pytest
from stores_helpers import Backend, delivery


def test_a_leased_entry_is_not_claimed_again_until_its_lease_runs_out(backend: Backend) -> None:
    inbox, clock = backend.inbox, backend.clock
    entry_id = inbox.add(delivery(1))
    assert [e.entry_id for e in inbox.claim(10, 30)] == [entry_id]
    clock.advance(29.999)
    assert inbox.claim(10, 30) == []
    assert inbox.pending() == 1  # leased entries are pending too
    clock.advance(0.001)  # exactly at the expiry: the lease is over
    (again,) = inbox.claim(10, 30)
    assert (again.entry_id, again.attempts) == (entry_id, 1)
    assert inbox.claim(10, 30) == []


def test_a_zero_second_lease_is_over_at_once(backend: Backend) -> None:
    inbox = backend.inbox
    entry_id = inbox.add(delivery(1))
    assert [(e.entry_id, e.attempts) for e in inbox.claim(1, 0)] == [(entry_id, 0)]
    assert [(e.entry_id, e.attempts) for e in inbox.claim(1, 0)] == [(entry_id, 1)]


def test_release_gives_an_entry_back_at_once_counting_the_attempt(backend: Backend) -> None:
    inbox = backend.inbox
    first, second = inbox.add(delivery(1)), inbox.add(delivery(2))
    assert [e.entry_id for e in inbox.claim(10, 3600)] == [first, second]
    inbox.release([second])
    (entry,) = inbox.claim(10, 3600)
    assert (entry.entry_id, entry.attempts) == (second, 1)
    inbox.complete([first, second])
    inbox.release([first])  # done entries stay done
    assert inbox.claim(10, 0) == []
    assert inbox.pending() == 0


@pytest.mark.parametrize("lease", [0.5, 3600.0])
def test_completing_an_entry_under_an_expired_lease_still_completes_it(
    backend: Backend, lease: float
) -> None:
    inbox, clock = backend.inbox, backend.clock
    entry_id = inbox.add(delivery(1))
    inbox.claim(1, lease)
    clock.advance(lease + 1)
    inbox.complete([entry_id])
    assert inbox.pending() == 0
    assert inbox.claim(1, lease) == []
