"""What the key-lock tests of the SQL and the Django ledgers share."""

from __future__ import annotations

import threading

from ams_billing.core.ledger import KeyLockingStore


def in_another_thread(store: KeyLockingStore, *keys: str) -> BaseException | None:
    """Try to take ``keys`` from another thread (its own connection or file descriptor).

    Returns what the attempt raised, or ``None`` when the locks were had (and given back).
    """
    outcome: list[BaseException | None] = []

    def take() -> None:
        try:
            with store.lock(*keys):
                outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=take)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    return outcome[0]
