"""Hostile webhook deliveries against ``BillingService.handle_webhook`` (Xero and the fake).

Whatever arrives: never an exception, 401 for anything not signed with the key, never a
listener notified or an invoice read for a forged delivery; a replay changes nothing new;
another tenant's events are ignored; the signature is checked before the body is parsed and
compared with ``hmac.compare_digest``.
"""

from __future__ import annotations

import hmac
import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ams_billing import (
    BillingService,
    ChangeKind,
    Contact,
    InvoiceChange,
    InvoiceRequest,
    LineItem,
    hookimpl,
)
from ams_billing.core.signing import sign_body
from ams_billing.emulators.xero import EmulatorClock, EmulatorConfig, XeroEmulator
from ams_billing.emulators.xero.harness import EMULATOR_BASE_URL, emulator_settings
from ams_billing.providers.fake import FakeProvider
from ams_billing.providers.xero import XeroProvider, wire
from ams_billing.testing.fake import FakeDriver

KEY = "hostile-webhook-test-key"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Recorder:
    def __init__(self) -> None:
        self.changes: list[InvoiceChange] = []

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        self.changes.append(change)


class Rig:
    """A service with a listener over one provider, and a way to make a genuine delivery."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.recorder = Recorder()
        if kind == "xero":
            self.emulator = XeroEmulator(
                EmulatorConfig(webhook_key=KEY), clock=EmulatorClock.virtual()
            )
            self.provider: object = XeroProvider(
                emulator_settings(self.emulator, EMULATOR_BASE_URL),
                transport=self.emulator.transport(),
                clock=self.emulator.clock.elapsed,
                sleep=self.emulator.clock.sleep,
            )
            self.header = "x-xero-signature"
            self.captured: list[tuple[bytes, dict[str, str]]] = []

            def receive(request):  # type: ignore[no-untyped-def]
                import httpx

                self.captured.append((request.read(), dict(request.headers.items())))
                return httpx.Response(200)

            self.emulator.set_webhook_target(receive)
        else:
            self.fake = FakeProvider(webhook_key=KEY)
            self.provider = self.fake
            self.header = "x-fake-signature"
        self.service = BillingService(self.provider, listeners=[self.recorder])

    def api_calls(self) -> int:
        if self.kind == "xero":
            return len(self.emulator.calls)
        return sum(1 for call in self.fake.calls if call != "parse_webhook")

    def paid_delivery(self) -> tuple[bytes, dict[str, str], str]:
        request = InvoiceRequest(
            contact=Contact("acct-1", "Ada Lovelace", "ada@example.org"),
            line_items=[LineItem("Membership", Decimal(1), Decimal("80.00"))],
            currency="NZD",
            issue_date=date(2026, 7, 1),
            due_date=date(2026, 7, 31),
        )
        invoice = self.service.create_invoice(request, idempotency_key="invoice:1")
        if self.kind == "xero":
            self.emulator.deliver_webhooks()
            self.captured.clear()
            self.emulator.record_payment(invoice.provider_id, invoice.total)
            self.emulator.deliver_webhooks()
            ((body, headers),) = self.captured
        else:
            FakeDriver(self.fake).take_webhook_deliveries()
            FakeDriver(self.fake).record_payment(invoice.provider_id, invoice.total)
            ((body, headers),) = [
                (d.body, dict(d.headers)) for d in FakeDriver(self.fake).take_webhook_deliveries()
            ]
        return body, headers, invoice.provider_id


@pytest.fixture(params=["xero", "fake"])
def rig(request: pytest.FixtureRequest) -> Rig:
    return Rig(request.param)


RIGS = {"xero": Rig("xero"), "fake": Rig("fake")}  # shared by the property tests (read-only use)

header_names = st.sampled_from(
    ["x-xero-signature", "X-Xero-Signature", "x-fake-signature", "content-type", "x-other"]
)
header_values = st.text(max_size=80) | st.sampled_from(["", " ", "A" * 44, "==", "\x00"])


@pytest.mark.parametrize("kind", ["xero", "fake"])
@SETTINGS
@given(body=st.binary(max_size=2048), headers=st.dictionaries(header_names, header_values))
def test_random_bytes_and_headers_are_refused_without_side_effects(
    kind: str, body: bytes, headers: dict[str, str]
) -> None:
    rig = RIGS[kind]
    calls = rig.api_calls()
    response = rig.service.handle_webhook(body, headers)
    assert response.status == 401
    assert response.delivery is None
    assert rig.recorder.changes == []
    assert rig.api_calls() == calls


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "events",
                    "resourceId",
                    "eventCategory",
                    "eventType",
                    "tenantId",
                    "eventDateUtc",
                    "firstEventSequence",
                    "lastEventSequence",
                    "x",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)


@pytest.mark.parametrize("kind", ["xero", "fake"])
@SETTINGS
@given(value=json_values)
def test_signed_but_malformed_json_is_acknowledged_never_raised(kind: str, value: object) -> None:
    # The sender holds the key, so it is genuine; a 4xx would only make Xero retry. What it
    # says must not crash anything, and nothing unknown is processed.
    rig = RIGS[kind]
    body = json.dumps(value).encode()
    headers = {rig.header: sign_body(body, KEY), "content-type": "application/json"}
    response = rig.service.handle_webhook(body, headers)
    assert response.status == 200
    if response.delivery is not None:
        assert all(event.resource_id for event in response.delivery.events)


# Event fields as a key holder might get them wrong: dates out of any calendar's range (in
# Xero's /Date(ms)/ form and in ISO 8601 with extreme offsets), wrong types, odd text.
event_dates = st.one_of(
    st.integers().map(lambda ms: f"/Date({ms})/"),
    st.tuples(
        st.integers(min_value=-(10**18), max_value=10**18),
        st.sampled_from(["+0000", "+1400", "-1200", "+9999", "-9999"]),
    ).map(lambda pair: f"/Date({pair[0]}{pair[1]})/"),
    st.tuples(
        st.datetimes(),
        st.sampled_from(["", "Z", "+00:00", "+14:00", "-12:00", "+23:59", "-23:59", ".1234567"]),
    ).map(lambda pair: pair[0].isoformat() + pair[1]),
    st.sampled_from(
        [
            "/Date(99999999999999999)/",
            "/Date(-99999999999999999)/",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "/Date(" + "9" * 5000 + ")/",
            "",
            " ",
        ]
    ),
    st.text(max_size=40),
    json_values,
)
scalars = st.none() | st.integers() | st.text(max_size=40) | st.booleans() | st.floats()
uuid_text = st.uuids().map(str)


def hostile_event(tenant_id: str) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "resourceId": uuid_text | uuid_text | scalars,
            "resourceUrl": scalars,
            "eventDateUtc": event_dates,
            "eventType": st.sampled_from(["UPDATE", "Create", "update", ""]) | scalars,
            "eventCategory": st.sampled_from(["INVOICE", "CONTACT", "invoice"]) | scalars,
            "tenantId": st.sampled_from([tenant_id, tenant_id.upper()]) | uuid_text | scalars,
            "tenantType": scalars,
        },
    )


def hostile_payload(tenant_id: str) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries(
        {"events": st.lists(hostile_event(tenant_id), max_size=4)},
        optional={
            "firstEventSequence": scalars,
            "lastEventSequence": scalars,
            "entropy": scalars,
        },
    )


@SETTINGS
@given(data=st.data())
def test_signed_hostile_events_never_raise_out_of_handle_webhook(data: st.DataObject) -> None:
    # Every exception escaping handle_webhook is a 500 from every web integration, which
    # SECURITY.md rules out for a signed body: it is acknowledged (200) and what cannot be
    # read is dropped.
    rig = RIGS["xero"]
    payload = data.draw(hostile_payload(rig.emulator.config.tenant_id))
    body = json.dumps(payload).encode()
    response = rig.service.handle_webhook(body, {rig.header: sign_body(body, KEY)})
    assert response.status == 200
    if response.delivery is not None:
        assert all(event.resource_id for event in response.delivery.events)


@pytest.mark.parametrize(
    "when",
    [
        "/Date(99999999999999999)/",
        "/Date(-99999999999999999)/",
        "/Date(253402300800000)/",  # 10000-01-01: one millisecond past datetime's range
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_an_event_date_out_of_range_is_acknowledged_not_raised(when: str) -> None:
    rig = RIGS["xero"]
    event = {"resourceId": "0f0f0f0f-0000-4000-8000-000000000001", "eventDateUtc": when,
             "eventCategory": "INVOICE", "eventType": "UPDATE"}  # fmt: skip
    body = json.dumps({"events": [event], "firstEventSequence": 1, "lastEventSequence": 1}).encode()
    response = rig.service.handle_webhook(body, {rig.header: sign_body(body, KEY)})
    assert response.status == 200
    assert response.delivery is None
    assert response.reason is not None
    assert "eventDateUtc" in response.reason


@pytest.mark.parametrize("kind", ["xero", "fake"])
@SETTINGS
@given(cut=st.integers(min_value=0, max_value=43), flip=st.integers(min_value=0, max_value=255))
def test_truncated_altered_or_wrong_key_signatures_are_401(kind: str, cut: int, flip: int) -> None:
    rig = RIGS[kind]
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"X"}'
    good = sign_body(body, KEY)
    variants = [
        good[:cut],
        good[:cut] + chr(65 + flip % 26) + good[cut + 1 :]
        if good[cut] != chr(65 + flip % 26)
        else "",
        sign_body(body, KEY + "x"),
        sign_body(body + b" ", KEY),
        f"{good}, {good}",  # a duplicated header, joined by the server
        f"{good},{sign_body(body, 'other')}",
    ]
    for signature in variants:
        assert rig.service.handle_webhook(body, {rig.header: signature}).status == 401


def test_a_forged_delivery_changes_nothing_and_a_genuine_one_is_acted_on_once(rig: Rig) -> None:
    body, headers, invoice_id = rig.paid_delivery()
    calls = rig.api_calls()
    forged = body.replace(b"acct", b"acct")  # same bytes, but sign it with the wrong key
    for signature in (None, "", sign_body(forged, "not-the-key"), "A" * 44):
        hostile = {k: v for k, v in headers.items() if k.lower() != rig.header}
        if signature is not None:
            hostile[rig.header] = signature
        assert rig.service.handle_webhook(body, hostile).status == 401
    assert rig.api_calls() == calls  # nothing was read for a forged delivery
    assert rig.recorder.changes == []
    response = rig.service.handle_webhook(body, headers)
    assert response.status == 200
    assert response.delivery is not None
    rig.service.process_webhook(response.delivery)
    assert [c.kind for c in rig.recorder.changes] == [ChangeKind.PAID]
    assert rig.recorder.changes[0].invoice.provider_id == invoice_id
    # A replay of the same genuine delivery is accepted (Xero retries) and changes nothing new.
    for _ in range(3):
        again = rig.service.handle_webhook(body, headers)
        assert again.status == 200
        assert again.delivery is not None
        assert rig.service.process_webhook(again.delivery) == []
    assert len(rig.recorder.changes) == 1


def test_another_tenants_events_are_ignored() -> None:
    rig = RIGS["xero"]
    event = {
        "resourceUrl": "https://api.xero.com/api.xro/2.0/Invoices/x",
        "resourceId": "0f0f0f0f-0000-4000-8000-000000000001",
        "eventDateUtc": "2026-01-15T09:00:00.000",
        "eventType": "UPDATE",
        "eventCategory": "INVOICE",
        "tenantId": "99999999-0000-4000-8000-000000000000",
        "tenantType": "ORGANISATION",
    }
    body = json.dumps({"events": [event], "firstEventSequence": 1, "lastEventSequence": 1,
                       "entropy": "E"}).encode()  # fmt: skip
    response = rig.service.handle_webhook(body, {"x-xero-signature": sign_body(body, KEY)})
    assert response.status == 200
    assert response.delivery is not None
    assert response.delivery.events == ()


@pytest.mark.parametrize("kind", ["xero", "fake"])
def test_deep_nesting_unsigned_never_reaches_the_parser(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = Rig(kind)
    body = b"[" * 100_000 + b"]" * 100_000
    parsed: list[bytes] = []
    original_loads = json.loads
    monkeypatch.setattr(
        json, "loads", lambda data, *a, **k: parsed.append(data) or original_loads(data, *a, **k)
    )
    monkeypatch.setattr(
        wire, "loads", lambda data, *a, **k: parsed.append(data) or original_loads(data)
    )
    response = rig.service.handle_webhook(body, {rig.header: "A" * 44})
    assert response.status == 401
    assert parsed == []


@pytest.mark.parametrize("kind", ["xero", "fake"])
def test_deep_nesting_correctly_signed_is_not_a_crash(kind: str) -> None:
    rig = Rig(kind)
    for body in (
        b"[" * 100_000 + b"]" * 100_000,
        b'{"events":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    ):
        response = rig.service.handle_webhook(body, {rig.header: sign_body(body, KEY)})
        assert response.status == 200
        assert response.delivery is None or response.delivery.events == ()
    assert rig.recorder.changes == []


@pytest.mark.parametrize("kind", ["xero", "fake"])
def test_signatures_are_compared_in_constant_time(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = Rig(kind)
    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def recording(a, b):  # type: ignore[no-untyped-def]
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"Y"}'
    assert rig.service.handle_webhook(body, {rig.header: "A" * 44}).status == 401
    assert rig.service.handle_webhook(body, {rig.header: sign_body(body, KEY)}).status == 200
    assert len(compared) == 2
