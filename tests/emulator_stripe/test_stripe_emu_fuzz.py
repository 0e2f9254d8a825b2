"""Random methods, paths and form bodies over loopback: the emulator always answers with
Stripe's error object or a 2xx shaped like Stripe's fixtures (never a cut, never a bare 500).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stripe_emu_helpers import fixture, fixtures_dir, shape_problems

from ams_billing.emulators.stripe import StripeEmulator, StripeEmulatorConfig

ERROR_TYPES = {"invalid_request_error", "idempotency_error", "api_error", "card_error"}
SHAPED = {
    "customer": ("customer", frozenset()),
    "invoice": ("invoice", frozenset()),
    "invoiceitem": ("invoiceitem", frozenset()),
    "event": ("event", frozenset({"data.previous_attributes"})),
    "webhook_endpoint": ("webhook_endpoint", frozenset({"secret"})),
    "line_item": ("line_item", frozenset()),
}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[StripeEmulator, httpx.Client, dict[str, str]]]:
    with (
        StripeEmulator(StripeEmulatorConfig(rate_limits=None)) as emu,
        httpx.Client(
            base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.secret_key}"}
        ) as client,
    ):
        customer = client.post("/v1/customers", data={"name": "Fuzz"}).json()["id"]
        invoice = client.post("/v1/invoices", data={"customer": customer}).json()["id"]
        endpoint = client.post(
            "/v1/webhook_endpoints", data={"url": "http://127.0.0.1:9/", "enabled_events[]": "*"}
        ).json()["id"]
        yield emu, client, {"cus": customer, "in": invoice, "we": endpoint}


names = st.sampled_from(
    [
        "customer",
        "amount",
        "currency",
        "invoice",
        "email",
        "name",
        "metadata",
        "expand",
        "limit",
        "starting_after",
        "status",
        "collection_method",
        "days_until_due",
        "due_date",
        "pending_invoice_items_behavior",
        "paid_out_of_band",
        "query",
        "url",
        "enabled_events",
        "created",
        "type",
        "types",
        "quantity",
        "unit_amount_decimal",
    ]
) | st.text(st.characters(codec="utf-8"), min_size=0, max_size=8).filter(lambda t: t != "")
suffixes = st.lists(
    st.sampled_from(["", "[]", "[0]", "[1]", "[k]", "[gt]", "[", "]", "[a][b]"]), max_size=2
).map("".join)
values = st.sampled_from(
    ["", "1", "-5", "100", "usd", "true", "false", "cus_x", "send_invoice", "include", "*"]
) | st.text(st.characters(codec="utf-8"), max_size=12)


def _known(ids: dict[str, str]) -> list[tuple[str, str]]:
    """Every route the emulator serves, with ids that exist."""
    cus, inv, we = ids["cus"], ids["in"], ids["we"]
    routes = [
        ("GET", "/v1/customers"),
        ("POST", "/v1/customers"),
        ("GET", "/v1/customers/search"),
        ("GET", f"/v1/customers/{cus}"),
        ("POST", f"/v1/customers/{cus}"),
        ("GET", "/v1/invoices"),
        ("POST", "/v1/invoices"),
        ("GET", f"/v1/invoices/{inv}"),
        ("POST", f"/v1/invoices/{inv}"),
        ("GET", f"/v1/invoices/{inv}/lines"),
        ("GET", "/v1/invoiceitems"),
        ("POST", "/v1/invoiceitems"),
        ("GET", "/v1/webhook_endpoints"),
        ("GET", f"/v1/webhook_endpoints/{we}"),
        ("POST", f"/v1/webhook_endpoints/{we}"),
        ("GET", "/v1/events"),
    ]
    actions = ["finalize", "send", "pay", "void", "mark_uncollectible"]
    return routes + [("POST", f"/v1/invoices/{inv}/{action}") for action in actions]


@st.composite
def requests(draw: st.DrawFn, ids: dict[str, str]) -> tuple[str, str, list[tuple[str, str]]]:
    """Mostly real routes with plausible parameters; some junk methods, paths and names."""
    if draw(st.integers(0, 4)) > 0:
        method, path = draw(st.sampled_from(_known(ids)))
    else:
        method = draw(st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH"]))
        resource = draw(st.sampled_from(["customers", "invoices", "events", "charges", "x"]))
        tail = draw(st.sampled_from(["", "/search", f"/{ids['in']}/lines", "/x", "/a/b"]))
        path = f"/v1/{resource}{tail}"
    pairs = draw(st.lists(st.tuples(st.tuples(names, suffixes).map("".join), values), max_size=3))
    if draw(st.booleans()):
        pairs = []
    return method, path, pairs


def _check(body: Any, status: int) -> None:
    if status >= 400:
        error = body["error"]
        assert error["type"] in ERROR_TYPES
        assert isinstance(error["message"], str)
        assert status != 500
        return
    assert 200 <= status < 300
    objects = body["data"] if body["object"] in ("list", "search_result") else [body]
    for item in objects:
        obj = item
        if obj.get("deleted") is True:
            assert set(obj) == {"id", "object", "deleted"}
            continue
        assert obj["object"] in SHAPED
        if fixtures_dir() is not None:
            name, extra = SHAPED[obj["object"]]
            theirs = fixture(name)
            if obj["object"] == "event":
                theirs = {**theirs, "data": {}}
                obj = {**obj, "data": {k: v for k, v in obj["data"].items() if k != "object"}}
            assert shape_problems(obj, theirs, extra=extra) == []


@settings(max_examples=250)
@given(data=st.data())
def test_every_request_gets_an_error_object_or_a_shaped_object(
    served: tuple[StripeEmulator, httpx.Client, dict[str, str]], data: st.DataObject
) -> None:
    emu, client, ids = served
    method, path, pairs = data.draw(requests(ids))
    before = len(emu.calls)
    if method in ("GET", "DELETE"):
        response = client.request(method, path, params=pairs)
    else:
        response = client.request(
            method,
            path,
            content=urlencode(pairs).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.headers["Request-Id"].startswith("req_")
    _check(response.json(), response.status_code)
    assert len(emu.calls) == before + 1  # answered and logged
