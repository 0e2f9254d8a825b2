"""Broken providers for the webhook promises a provider declares: signature time and replays.

Like ``contract_broken.py`` (the fake with one defect each, ``BROKEN`` naming the contract tests
each must fail). Both declare a signature tolerance, as Stripe does, so the tolerance and replay
tests of ``contracts/suites/webhooks.py`` run for them; only those tests catch them. Not a test
module: ``test_contract_teeth.py`` copies it next to a generated test file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import attrs

from ams_billing import WebhookDelivery, hookimpl
from ams_billing.core.behaviour import ProviderBehaviour, WebhookBehaviour
from ams_billing.providers.fake import FakeProvider

TOLERANCE = timedelta(minutes=5)
TIMED = ProviderBehaviour(webhooks=WebhookBehaviour(signature_tolerance=TOLERANCE))
TIMED_SNAPSHOTS = ProviderBehaviour(
    webhooks=WebhookBehaviour(signature_tolerance=TOLERANCE, snapshot_events=True)
)


class IgnoresTheSignatureTime(FakeProvider):
    """Checks that the timestamp is signed, never how old it is: a replay verifies for ever."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("behaviour", TIMED)
        super().__init__(**kwargs)

    def _check_age(self, timestamp: int) -> None:
        return None


class DatesDeliveredStatesOnReceipt(FakeProvider):
    """Dates each invoice state a delivery carries by when it arrived, not when it was so.

    The provider has no ``updated_at`` of its own to copy (as Stripe's invoices have none), so
    a replayed delivery's old state looks newer than what was processed since: processed twice.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("behaviour", TIMED_SNAPSHOTS)
        super().__init__(**kwargs)

    @hookimpl
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        """Verify and parse, then stamp every delivered state with the time of receipt."""
        delivery = super().parse_webhook(body, headers)
        received = self.books.clock.tick()
        events = tuple(
            attrs.evolve(event, snapshot=attrs.evolve(event.snapshot, updated_at=received))
            if event.snapshot is not None
            else event
            for event in delivery.events
        )
        return attrs.evolve(delivery, events=events)


BROKEN: dict[type[FakeProvider], set[str]] = {
    IgnoresTheSignatureTime: {"test_delivery_signed_before_the_tolerance_is_refused"},
    DatesDeliveredStatesOnReceipt: {"test_replayed_delivery_is_not_processed_twice"},
}
"""Each broken provider and the contract tests that must fail for it."""

PASS_THE_REST = {IgnoresTheSignatureTime, DatesDeliveredStatesOnReceipt}
"""The broken providers that only the tests named for them fail: nothing else catches them."""
