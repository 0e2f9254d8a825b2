"""Signed webhook deliveries and the Intent-to-Receive check (xero-api.md §6).

Contact and invoice changes (payments surface as INVOICE UPDATE) queue events; nothing is sent
until :meth:`WebhookDispatcher.deliver` runs (``XeroEmulator.deliver_webhooks()``, or a server's
background thread). Each payload carries up to ``batch_size`` events with their sequence range
and fresh ``entropy``, and ``x-xero-signature`` = base64(HMAC-SHA256(webhook key, raw body)).
A delivery succeeds only on HTTP 200; otherwise (other status, timeout, connection error) the
payload is retried ``retry_after`` seconds later, and after ``disable_after`` seconds of failures
the subscription is disabled until :meth:`WebhookDispatcher.set_target` or a passed
Intent-to-Receive re-enables it. Seeded misbehaviour: duplicates, reordering, drops.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import string
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from ams_billing.core.deprecation import moved
from ams_billing.emulators.common.clock import EmulatorClock

from . import wire
from .config import EmulatorConfig

__all__ = [
    "DeliveryAttempt",
    "IntentCheck",
    "IntentToReceiveReport",
    "WebhookDispatcher",
    "WebhookTarget",
    "sign",
]

#: A delivery target: a URL, or a function answering each delivery like an endpoint would.
WebhookTarget = str | Callable[[httpx.Request], httpx.Response]
CALLABLE_URL = "https://webhook-receiver.invalid/xero"


def sign(key: str, body: bytes) -> str:
    """Xero's signature: base64 of HMAC-SHA256 over the raw body."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def _event_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


@attrs.frozen
class _Event:
    sequence: int
    category: str
    event_type: str
    resource_id: str
    when: datetime


@attrs.define
class _Payload:
    body: bytes
    payload: dict[str, Any]
    attempts: int = 0
    next_at: datetime | None = None
    first_failure: datetime | None = None


@attrs.frozen
class DeliveryAttempt:
    """The outcome of sending (or dropping) one payload: what the emulator tried, and the answer.

    Not a :class:`ams_billing.core.models.WebhookDelivery`, which is what a provider parses out
    of a delivery it received.
    """

    payload: dict[str, Any]
    body: bytes = attrs.field(repr=False)
    signature: str = attrs.field(repr=False)
    status: int | None
    error: str | None = None
    attempt: int = 1
    duplicate: bool = False
    dropped: bool = False

    @property
    def ok(self) -> bool:
        """Whether the receiver accepted it (HTTP 200)."""
        return self.status == 200


@attrs.frozen
class IntentCheck:
    """One request of the Intent-to-Receive series."""

    correctly_signed: bool
    status: int | None
    body_empty: bool
    sets_cookie: bool
    elapsed: float
    error: str | None = None

    @property
    def passed(self) -> bool:
        """200 for a good signature, 401 for a bad one; empty body, no cookie, within 5 s."""
        expected = 200 if self.correctly_signed else 401
        return (
            self.error is None
            and self.status == expected
            and self.body_empty
            and not self.sets_cookie
            and self.elapsed <= 5.0
        )


@attrs.frozen
class IntentToReceiveReport:
    """The result of :meth:`WebhookDispatcher.intent_to_receive`."""

    url: str
    checks: tuple[IntentCheck, ...]

    @property
    def passed(self) -> bool:
        """Whether every request was answered as Xero requires."""
        return bool(self.checks) and all(check.passed for check in self.checks)


class WebhookDispatcher:
    """The event queue and its delivery machinery."""

    def __init__(self, config: EmulatorConfig, clock: EmulatorClock) -> None:
        self._config = config
        self._behaviour = config.webhooks
        self._clock = clock
        self._rng = random.Random(config.seed ^ 0x5EB)  # noqa: S311 - reproducible
        self._lock = threading.Lock()
        self._deliver_lock = threading.Lock()
        self._url: str | None = None
        self._transport: httpx.BaseTransport | None = None
        self._events: list[_Event] = []
        self._retries: list[_Payload] = []
        self._sequence = 0
        self.disabled = False
        self.history: list[DeliveryAttempt] = []

    def __repr__(self) -> str:
        return f"<WebhookDispatcher url={self._url!r} pending={self.pending}>"

    def set_target(
        self, target: WebhookTarget | None, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        """Deliver to a URL (optionally through ``transport``) or to a callable; ``None`` stops."""
        with self._lock:
            if target is None:
                self._url, self._transport = None, None
            elif isinstance(target, str):
                self._url, self._transport = target, transport
            else:
                self._url, self._transport = CALLABLE_URL, httpx.MockTransport(target)
            self.disabled = False

    @property
    def pending(self) -> int:
        """Events not yet delivered (queued or awaiting a retry)."""
        with self._lock:
            return len(self._events) + sum(len(p.payload["events"]) for p in self._retries)

    def reset(self) -> None:
        """Drop every queued event and the delivery history."""
        with self._lock:
            self._events.clear()
            self._retries.clear()
            self._sequence = 0
            self.disabled = False
            self.history.clear()

    def enqueue(self, category: str, event_type: str, resource_id: str, when: datetime) -> None:
        """Queue one event."""
        with self._lock:
            self._sequence += 1
            self._events.append(_Event(self._sequence, category, event_type, resource_id, when))

    def _entropy(self) -> str:
        return "".join(self._rng.choice(string.ascii_uppercase) for _ in range(20))

    def _event_json(self, event: _Event) -> dict[str, Any]:
        folder = "Contacts" if event.category == "CONTACT" else "Invoices"
        return {
            "resourceUrl": f"{self._config.resource_base_url}/{folder}/{event.resource_id}",
            "resourceId": event.resource_id,
            "eventDateUtc": _event_date(event.when),
            "eventType": event.event_type,
            "eventCategory": event.category,
            "tenantId": self._config.tenant_id,
            "tenantType": "ORGANISATION",
        }

    def _batch(self, events: list[_Event]) -> _Payload:
        payload = {
            "events": [self._event_json(e) for e in events],
            "firstEventSequence": events[0].sequence,
            "lastEventSequence": events[-1].sequence,
            "entropy": self._entropy(),
        }
        return _Payload(wire.dumps(payload), payload)

    def _take_due(self, now: datetime, force: bool) -> list[_Payload]:
        with self._lock:
            if self._url is None or self.disabled:
                return []
            size = max(1, self._behaviour.batch_size)
            events, self._events = self._events, []
            fresh = [self._batch(events[i : i + size]) for i in range(0, len(events), size)]
            due = [p for p in self._retries if force or p.next_at is None or p.next_at <= now]
            self._retries = [p for p in self._retries if p not in due]
            batch = due + fresh
            if self._behaviour.reorder:
                self._rng.shuffle(batch)
            return batch

    def _post(
        self, client: httpx.Client, body: bytes, signature: str | None
    ) -> tuple[httpx.Response | None, str | None, float]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if signature is not None:
            headers["x-xero-signature"] = signature
        assert self._url is not None
        started = time.monotonic()
        try:
            response = client.post(self._url, content=body, headers=headers)
            response.read()
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}", time.monotonic() - started
        return response, None, time.monotonic() - started

    def deliver(self, *, force: bool = False) -> list[DeliveryAttempt]:
        """Send every due payload (``force`` also sends retries not yet due)."""
        with self._deliver_lock:
            now = self._clock.now()
            batch = self._take_due(now, force)
            if not batch:
                return []
            results: list[DeliveryAttempt] = []
            key = self._config.webhook_key
            with httpx.Client(transport=self._transport, timeout=self._behaviour.timeout) as client:
                for item in batch:
                    item.attempts += 1
                    signature = sign(key, item.body)
                    if self._behaviour.drop and self._rng.random() < self._behaviour.drop:
                        results.append(
                            DeliveryAttempt(
                                item.payload,
                                item.body,
                                signature,
                                None,
                                "dropped",
                                item.attempts,
                                dropped=True,
                            )
                        )
                        continue
                    response, error, _ = self._post(client, item.body, signature)
                    status = response.status_code if response is not None else None
                    results.append(
                        DeliveryAttempt(
                            item.payload, item.body, signature, status, error, item.attempts
                        )
                    )
                    if status == 200:
                        if (
                            self._behaviour.duplicate
                            and self._rng.random() < self._behaviour.duplicate
                        ):
                            again, error, _ = self._post(client, item.body, signature)
                            results.append(
                                DeliveryAttempt(
                                    item.payload,
                                    item.body,
                                    signature,
                                    again.status_code if again is not None else None,
                                    error,
                                    item.attempts,
                                    duplicate=True,
                                )
                            )
                        continue
                    self._schedule_retry(item, now)
            with self._lock:
                self.history.extend(results)
            return results

    def _schedule_retry(self, item: _Payload, now: datetime) -> None:
        if item.first_failure is None:
            item.first_failure = now
        item.next_at = now + timedelta(seconds=self._behaviour.retry_after)
        with self._lock:
            self._retries.append(item)
            if (now - item.first_failure).total_seconds() >= self._behaviour.disable_after:
                self.disabled = True

    def intent_to_receive(
        self, url: str | None = None, *, transport: httpx.BaseTransport | None = None
    ) -> IntentToReceiveReport:
        """Run Xero's Intent-to-Receive series against ``url`` (default: the current target)."""
        with self._lock:
            target = url or self._url
            use = transport if url is not None else self._transport
        if target is None:
            raise ValueError("no webhook target configured")
        checks = []
        key = self._config.webhook_key
        plan = (("garbage", False), ("good", True), ("wrong-key", False))
        saved_url = self._url
        self._url = target
        try:
            with httpx.Client(transport=use, timeout=self._behaviour.timeout) as client:
                for kind, good in plan:
                    body = wire.dumps(
                        {
                            "events": [],
                            "lastEventSequence": 0,
                            "firstEventSequence": 0,
                            "entropy": self._entropy(),
                        }
                    )
                    if kind == "good":
                        signature = sign(key, body)
                    elif kind == "wrong-key":
                        signature = sign(key + "-wrong", body)
                    else:
                        signature = base64.b64encode(self._rng.randbytes(32)).decode()
                    response, error, elapsed = self._post(client, body, signature)
                    checks.append(
                        IntentCheck(
                            correctly_signed=good,
                            status=response.status_code if response is not None else None,
                            body_empty=response is not None and not response.content,
                            sets_cookie=response is not None and "set-cookie" in response.headers,
                            elapsed=elapsed,
                            error=error,
                        )
                    )
        finally:
            self._url = saved_url
        report = IntentToReceiveReport(target, tuple(checks))
        if report.passed and (url is None or url == saved_url):
            self.disabled = False
        return report


# Old names, kept with a DeprecationWarning (issue 18). Type checkers see plain aliases, so
# code typed against the old names still checks; at run time each use warns.
if TYPE_CHECKING:
    WebhookDelivery = DeliveryAttempt
else:
    __getattr__ = moved(
        __name__,
        {
            "WebhookDelivery": "ams_billing.emulators.xero.webhooks:DeliveryAttempt",
        },
    )
