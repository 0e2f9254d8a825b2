"""Response holds: keep the answer to an applied write in flight until the test lets it go.

A crash test needs the moment where Xero has applied a create but its answer has not reached
the client yet: kill the client then, and its retry must not create a second copy.
``XeroEmulator.hold_responses()`` arms a :class:`ResponseHold` for matching calls (a method and
a path regular expression, as a fault rule matches). The next ``count`` matching writes whose
change was applied (status below 400, not an idempotent replay) are held after the books
changed and before the response is returned: :meth:`ResponseHold.wait_held` tells the test
which call is held, :meth:`ResponseHold.release` sends the answers on (to whoever still
listens). A hold never outlives ``timeout`` seconds of real time, so a forgotten hold cannot
hang a server.
"""

from __future__ import annotations

import re
import threading

import attrs

__all__ = ["HeldCall", "HoldRegistry", "ResponseHold"]


@attrs.frozen
class HeldCall:
    """A write the emulator applied and whose response it is holding."""

    method: str
    path: str
    status: int
    idempotency_key: str | None
    request_body: bytes = attrs.field(repr=False)
    response_body: bytes = attrs.field(repr=False)


class ResponseHold:
    """Holds the responses of up to ``count`` matching applied writes until released."""

    def __init__(self, method: str | None, path: str | None, count: int, timeout: float) -> None:
        if count < 1:
            raise ValueError("a hold holds at least one call")
        if not timeout > 0:
            raise ValueError("a hold's timeout must be positive")
        self.method = method.upper() if method else None
        self.path = path
        self.count = count
        self.timeout = timeout
        self._taken = 0
        self._held: list[HeldCall] = []
        self._released = threading.Event()
        self._changed = threading.Condition()

    def __repr__(self) -> str:
        return f"<ResponseHold {self.method or '*'} {self.path or '*'} held={len(self.held)}>"

    def matches(self, method: str, path: str) -> bool:
        """Whether a call with this method and path is one this hold wants."""
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None

    def take(self) -> bool:
        """Claim one of the hold's ``count`` for an applied call; false once exhausted."""
        with self._changed:
            if self._released.is_set() or self._taken >= self.count:
                return False
            self._taken += 1
            return True

    def keep(self, call: HeldCall) -> None:
        """Record ``call`` as held and block the calling thread until released (or timeout)."""
        with self._changed:
            self._held.append(call)
            self._changed.notify_all()
        self._released.wait(self.timeout)

    @property
    def held(self) -> list[HeldCall]:
        """The calls held so far (released or not), oldest first."""
        with self._changed:
            return list(self._held)

    @property
    def exhausted(self) -> bool:
        """Whether the hold has taken all the calls it will take (or was released)."""
        with self._changed:
            return self._released.is_set() or self._taken >= self.count

    def wait_held(self, timeout: float) -> HeldCall | None:
        """The first held call, waiting up to ``timeout`` seconds for one; ``None`` if none."""
        with self._changed:
            self._changed.wait_for(lambda: bool(self._held), timeout=timeout)
            return self._held[0] if self._held else None

    def release(self) -> None:
        """Send the held responses on, and hold nothing more."""
        self._released.set()


class HoldRegistry:
    """The armed holds of one emulator; thread-safe."""

    def __init__(self) -> None:
        self._holds: list[ResponseHold] = []
        self._lock = threading.Lock()

    def add(self, hold: ResponseHold) -> ResponseHold:
        """Arm ``hold``."""
        with self._lock:
            self._holds = [h for h in self._holds if not h.exhausted]
            self._holds.append(hold)
        return hold

    def clear(self) -> None:
        """Release and forget every hold."""
        with self._lock:
            holds, self._holds = self._holds, []
        for hold in holds:
            hold.release()

    def pick(self, method: str, path: str) -> ResponseHold | None:
        """The armed hold that takes this applied call, if any (consuming one of its count)."""
        with self._lock:
            holds = list(self._holds)
        for hold in holds:
            if hold.matches(method, path) and hold.take():
                return hold
        return None
