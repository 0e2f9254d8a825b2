"""Hostile Stripe deliveries over real HTTP (WSGI on wsgiref, ASGI on uvicorn): refused, no 5xx.

The service is the real ``StripeProvider`` (its ``now`` movable, to replay a delivery past the
tolerance); the events are the Stripe emulator's own ``invoice.paid`` snapshots for an invoice
billed through the provider and paid out of band. A forged, altered, expired or replayed
delivery gets a 4xx with an empty body and tells no listener anything; a genuine one gets
200, and the same delivery again (Stripe delivers at least once) changes nothing more.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import httpx
import pytest
from webhook_servers import Recorder, serve_asgi_stack, serve_wsgi_stack

from ams_billing import BillingService, ChangeKind, Contact, InvoiceRequest, LineItem
from ams_billing.contrib.webhooks import WebhookEndpoint
from ams_billing.core.inbox import InMemoryWebhookInbox
from ams_billing.emulators.stripe import StripeEmulator, StripeEmulatorConfig
from ams_billing.emulators.stripe.webhooks import encode_event
from ams_billing.providers.stripe import StripeProvider
from ams_billing.providers.stripe.settings import StripeSettings

PATH = "/billing/stripe/webhooks/"
TOLERANCE = 300


def sign(body: bytes, secret: str, at: int, scheme: str = "v1") -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},{scheme}={digest}"


@attrs.define
class StripeStack:
    """The Stripe provider behind the webhook endpoint; deliveries processed as they come."""

    emulator: StripeEmulator
    secret: str
    service: BillingService
    recorder: Recorder
    offset: list[float]
    endpoint: WebhookEndpoint = attrs.field(init=False)
    members: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))

    def __attrs_post_init__(self) -> None:
        def process(delivery: object) -> None:
            self.service.process_webhook(delivery)  # type: ignore[arg-type]

        self.endpoint = WebhookEndpoint(self.service, on_delivery=process, path=PATH)

    def now(self) -> int:
        return int(datetime.now(UTC).timestamp() + self.offset[0])

    def paid_event(self) -> bytes:
        """A new member's invoice, billed, sent and paid out of band: its invoice.paid body."""
        n = next(self.members)
        today = date.today()
        invoice = self.service.create_invoice(
            InvoiceRequest(
                contact=Contact(f"hostile-{n}", f"Member {n}", f"m{n}@example.org"),
                line_items=[LineItem("Membership", Decimal(1), Decimal("10.00"))],
                currency="USD",
                issue_date=today,
                due_date=today + timedelta(days=30),
                reference=f"HOSTILE-{n}",
            ),
            idempotency_key=f"invoice:hostile-{n}",
        )
        self.emulator.pay_invoice(invoice.provider_id)
        (event,) = [
            e
            for e in self.emulator.events()
            if e["type"] == "invoice.paid" and e["data"]["object"]["id"] == invoice.provider_id
        ]
        return encode_event(event)

    def paid_told(self) -> int:
        return sum(1 for c in self.recorder.changes if c.kind is ChangeKind.PAID)


@pytest.fixture(scope="module")
def world() -> Iterator[StripeStack]:
    with StripeEmulator(StripeEmulatorConfig(rate_limits=None)) as emulator:
        _, secret = emulator.create_webhook_endpoint("http://127.0.0.1:9/unused", ("*",))
        settings = StripeSettings.from_env(
            {
                "STRIPE_SECRET_KEY": emulator.secret_key,
                "STRIPE_WEBHOOK_SECRET": secret,
                "STRIPE_API_BASE": emulator.base_url,
            }
        )
        offset = [0.0]
        provider = StripeProvider(
            settings, now=lambda: datetime.now(UTC) + timedelta(seconds=offset[0])
        )
        recorder = Recorder()
        service = BillingService(provider, listeners=[recorder], inbox=InMemoryWebhookInbox())
        with provider:  # the service does not own a provider it was given
            yield StripeStack(emulator, secret, service, recorder, offset)


@pytest.fixture(scope="module", params=["wsgi", "asgi"])
def server(request: pytest.FixtureRequest, world: StripeStack) -> Iterator[str]:
    serve = serve_wsgi_stack if request.param == "wsgi" else serve_asgi_stack
    with serve(world) as base_url:  # type: ignore[arg-type] - it needs only .endpoint
        yield base_url + PATH


@pytest.fixture(autouse=True)
def clock_back(world: StripeStack) -> Iterator[None]:
    world.offset[0] = 0.0
    yield
    world.offset[0] = 0.0


def post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(url, content=body, headers={"content-type": "application/json", **headers},
                      timeout=10)  # fmt: skip


def _altered(body: bytes) -> bytes:
    event = json.loads(body)
    event["data"]["object"]["amount_paid"] = 1
    return json.dumps(event).encode()


Forge = Callable[[StripeStack, bytes], tuple[bytes, dict[str, str]]]

HOSTILE: list[tuple[str, Forge]] = [
    ("no signature", lambda w, b: (b, {})),
    ("empty signature", lambda w, b: (b, {"stripe-signature": ""})),
    ("another endpoint's secret",
     lambda w, b: (b, {"stripe-signature": sign(b, "whsec_someoneelse0000000000", w.now())})),
    ("the secret without whsec_",
     lambda w, b: (b, {"stripe-signature": sign(b, w.secret[len("whsec_"):], w.now())})),
    ("an altered body",
     lambda w, b: (_altered(b), {"stripe-signature": sign(b, w.secret, w.now())})),
    ("expired: signed 301 s ago",
     lambda w, b: (b, {"stripe-signature": sign(b, w.secret, w.now() - TOLERANCE - 1)})),
    ("expired: signed a day ago",
     lambda w, b: (b, {"stripe-signature": sign(b, w.secret, w.now() - 86400)})),
    ("only a v0 signature (test mode's fake scheme)",
     lambda w, b: (b, {"stripe-signature": sign(b, w.secret, w.now(), "v0")})),
    ("a timestamp not signed (t changed)",
     lambda w, b: (b, {"stripe-signature": sign(b, w.secret, w.now()).replace("t=", "t=1", 1)})),
    ("upper-case hex", lambda w, b: (b, {"stripe-signature": sign(b, w.secret, w.now()).upper()})),
    ("truncated v1", lambda w, b: (b, {"stripe-signature": sign(b, w.secret, w.now())[:-8]})),
    ("no t", lambda w, b: (b, {"stripe-signature": sign(b, w.secret, w.now()).split(",", 1)[1]})),
    ("garbage header", lambda w, b: (b, {"stripe-signature": "t=abc,v1=zz,,=="})),
]  # fmt: skip


@pytest.mark.parametrize("forge", [h[1] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_forged_altered_or_expired_deliveries_are_refused(
    world: StripeStack, server: str, forge: Forge
) -> None:
    body = world.paid_event()
    told = world.paid_told()
    forged_body, headers = forge(world, body)
    response = post(server, forged_body, headers)
    assert 400 <= response.status_code < 500, response.status_code
    assert response.content == b""
    assert world.paid_told() == told  # nobody heard of the payment


def test_a_genuine_delivery_is_processed_once_even_when_delivered_twice(
    world: StripeStack, server: str
) -> None:
    body = world.paid_event()
    told = world.paid_told()
    headers = {"stripe-signature": sign(body, world.secret, world.now())}
    assert post(server, body, headers).status_code == 200
    assert world.paid_told() == told + 1
    # Stripe delivers at least once: the same delivery again, inside the tolerance.
    assert post(server, body, headers).status_code == 200
    assert world.paid_told() == told + 1


def test_a_captured_delivery_replayed_after_the_tolerance_is_refused(
    world: StripeStack, server: str
) -> None:
    body = world.paid_event()
    told = world.paid_told()
    captured = {"stripe-signature": sign(body, world.secret, world.now())}
    world.offset[0] = TOLERANCE + 1.0  # the receiver's clock, 301 s after the signature
    replayed = post(server, body, captured)
    assert 400 <= replayed.status_code < 500
    assert world.paid_told() == told
    world.offset[0] = 0.0
    assert post(server, body, captured).status_code == 200  # inside it, the same bytes pass


def test_a_rotated_secret_accepts_either_signature(world: StripeStack, server: str) -> None:
    body = world.paid_event()
    now = world.now()
    both = (
        f"{sign(body, 'whsec_theoldone000000000000', now)},v1="
        + sign(body, world.secret, now).split("v1=")[1]
    )
    assert post(server, body, {"stripe-signature": both}).status_code == 200


def test_no_hostile_delivery_gets_a_5xx(world: StripeStack, server: str) -> None:
    """Every forgery above, again, counted: 0 x 5xx (the figure for the report)."""
    statuses = []
    for _, forge in HOSTILE:
        forged_body, headers = forge(world, world.paid_event())
        statuses.append(post(server, forged_body, headers).status_code)
    fives = sum(1 for s in statuses if s >= 500)
    print(f"\n{len(statuses)} hostile Stripe deliveries: statuses {sorted(set(statuses))}, "
          f"{fives} x 5xx")  # fmt: skip
    assert fives == 0
    assert all(400 <= s < 500 for s in statuses)
