"""Cross-process locks on idempotency keys: one process at a time works on a key.

A provider serialises one key inside its process; two processes with the same key at the same
moment would both find no record in the ledger and both create. A store that can lock a key
for every process sharing it offers :class:`~ams_billing.core.ledger.KeyLockingStore`; the
provider holds that lock around the whole keyed operation (read the ledger, call the
accounting system, record the outcome), so the second process waits and then finds the first
one's outcome.

The building blocks here serve the stores:

- :func:`hold_advisory_locks`: database advisory locks (PostgreSQL's ``pg_try_advisory_lock``)
  through a ``try_lock``/``unlock`` pair on one connection;
- :func:`hold_file_locks`: ``flock`` on files in a directory (an SQLite database: one machine).

Every wait is bounded: a lock not had within ``timeout`` seconds raises
:class:`~ams_billing.core.errors.ProviderUnavailableError` (retryable), never waits forever.
A thread that already holds a key's lock (a nested operation, two keys in one file) takes it
again without waiting.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ams_billing.core.errors import ProviderUnavailableError

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "FILE_LOCK_BUCKETS",
    "hold_advisory_locks",
    "hold_file_locks",
    "key_lock_id",
    "lock_timed_out",
]

DEFAULT_LOCK_TIMEOUT = 120.0
"""Seconds a keyed operation waits for another process working on the same key."""

FILE_LOCK_BUCKETS = 256
"""Lock files per database: keys share them by hash (a shared file only makes a key wait)."""

_POLL_FIRST = 0.01
_POLL_MOST = 0.25

_held = threading.local()


def key_lock_id(key: str) -> int:
    """A signed 64-bit number for ``key`` (what ``pg_advisory_lock(bigint)`` takes)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_timed_out(timeout: float) -> ProviderUnavailableError:
    """The error for a key another process kept busy for longer than ``timeout`` seconds."""
    return ProviderUnavailableError(
        f"another process has been working on the same idempotency key for over {timeout:g} s;"
        " retry later with the same key (its outcome is then in the ledger), or raise the"
        " store's lock_timeout if such operations take longer"
    )


def _held_here() -> set[tuple[str, int]]:
    held: set[tuple[str, int]] | None = getattr(_held, "locks", None)
    if held is None:
        held = set()
        _held.locks = held
    return held


def _wait_for(try_once: Callable[[], bool], deadline: float, timeout: float) -> None:
    pause = _POLL_FIRST
    while not try_once():
        left = deadline - time.monotonic()
        if left <= 0:
            raise lock_timed_out(timeout)
        time.sleep(min(pause, left))
        pause = min(pause * 2, _POLL_MOST)


@contextmanager
def _hold(
    namespace: str,
    ids: Iterable[int],
    try_lock: Callable[[int], bool],
    unlock: Callable[[int], None],
    timeout: float,
) -> Iterator[None]:
    held = _held_here()
    # One global order (sorted ids): two processes locking overlapping batches cannot deadlock.
    wanted = [i for i in sorted(set(ids)) if (namespace, i) not in held]
    deadline = time.monotonic() + timeout
    taken: list[int] = []
    try:
        for lock_id in wanted:
            _wait_for(functools.partial(try_lock, lock_id), deadline, timeout)
            taken.append(lock_id)
            held.add((namespace, lock_id))
        yield
    finally:
        for lock_id in reversed(taken):
            held.discard((namespace, lock_id))
            unlock(lock_id)


@contextmanager
def hold_advisory_locks(
    namespace: str,
    keys: Iterable[str],
    try_lock: Callable[[int], bool],
    unlock: Callable[[int], None],
    timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> Iterator[None]:
    """Hold the advisory lock of every key (by :func:`key_lock_id`), taken in sorted order.

    ``try_lock(id)`` answers whether the lock was had at once; ``unlock(id)`` gives it back.
    Both must run on the same database connection, held for the duration. ``namespace`` names
    the database, so that this thread's held locks are told apart per database.
    """
    with _hold(namespace, (key_lock_id(key) for key in keys), try_lock, unlock, timeout):
        yield


@contextmanager
def hold_file_locks(
    directory: Path, keys: Iterable[str], timeout: float = DEFAULT_LOCK_TIMEOUT
) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the lock file of every key, in ``directory``.

    Keys share :data:`FILE_LOCK_BUCKETS` files by hash. The files are created as needed and
    left in place (empty); a process that dies releases its locks with its file descriptors.
    """
    # POSIX only, imported here so that the stores (and this module) still import elsewhere.
    import fcntl  # noqa: PLC0415

    directory.mkdir(parents=True, exist_ok=True)
    descriptors: dict[int, int] = {}

    def try_lock(bucket: int) -> bool:
        if bucket not in descriptors:
            path = directory / f"{bucket:02x}.lock"
            descriptors[bucket] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptors[bucket], fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def unlock(bucket: int) -> None:
        descriptor = descriptors.pop(bucket)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)

    buckets = (key_lock_id(key) % FILE_LOCK_BUCKETS for key in keys)
    try:
        with _hold(str(directory.resolve()), buckets, try_lock, unlock, timeout):
            yield
    finally:
        for descriptor in descriptors.values():  # opened, never locked (a timeout)
            os.close(descriptor)
