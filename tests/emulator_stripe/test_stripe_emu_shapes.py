"""The emulator's 2xx bodies have the keys and JSON types of Stripe's own fixtures
(``stripe/openapi`` ``fixtures3.json``, MIT, read from ``../shared``; skipped when absent).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from stripe_emu_helpers import fixture, shape_problems, webhook_receiver

from ams_billing.emulators.stripe import StripeEmulator


def _objects(emu: StripeEmulator, http: httpx.Client) -> dict[str, list[dict[str, Any]]]:
    """One of each object, from creation, retrieval, lists and state changes."""
    seen: dict[str, list[dict[str, Any]]] = {}

    def keep(response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        body = response.json()
        for obj in body["data"] if body.get("object") == "list" else [body]:
            seen.setdefault(obj["object"], []).append(obj)
        return dict(body)

    with webhook_receiver() as (url, _received):
        created = keep(
            http.post("/v1/webhook_endpoints", data={"url": url, "enabled_events[]": "*"})
        )
        keep(http.get(f"/v1/webhook_endpoints/{created['id']}"))
        customer = keep(
            http.post("/v1/customers", data={"email": "a@example.org", "metadata[k]": "v"})
        )
        keep(http.post(f"/v1/customers/{customer['id']}", data={"name": "Renamed"}))
        draft = keep(http.post("/v1/invoices", data={"customer": customer["id"]}))
        keep(
            http.post(
                "/v1/invoiceitems",
                data={"customer": customer["id"], "invoice": draft["id"], "amount": "700"},
            )
        )
        keep(http.get("/v1/invoiceitems"))
        keep(http.post(f"/v1/invoices/{draft['id']}/finalize"))
        keep(http.post(f"/v1/invoices/{draft['id']}/pay", data={"paid_out_of_band": "true"}))
        keep(http.get("/v1/invoices", params={"customer": customer["id"]}))
        keep(http.get("/v1/events", params={"limit": "100"}))
    return seen


@pytest.mark.parametrize(
    ("object_", "fixture_name", "extra"),
    [
        ("customer", "customer", frozenset()),
        ("invoice", "invoice", frozenset()),
        ("invoiceitem", "invoiceitem", frozenset()),
        ("line_item", "line_item", frozenset()),
        ("event", "event", frozenset({"data.previous_attributes"})),
        ("webhook_endpoint", "webhook_endpoint", frozenset({"secret"})),
    ],
)
def test_keys_and_types_match_the_fixture(
    emu: StripeEmulator, http: httpx.Client, object_: str, fixture_name: str, extra: frozenset[str]
) -> None:
    theirs = fixture(fixture_name)
    seen = _objects(emu, http)
    if object_ == "line_item":
        samples = [line for inv in seen["invoice"] for line in inv["lines"]["data"]]
    else:
        samples = seen[object_]
    assert samples
    if object_ == "event":  # data.object is another object (the fixture's is a plan)
        theirs = {**theirs, "data": {}}
        samples = [
            {**o, "data": {k: v for k, v in o["data"].items() if k != "object"}} for o in samples
        ]
    for ours in samples:
        assert shape_problems(ours, theirs, extra=extra) == [], ours.get("id")


@pytest.mark.parametrize("name", ["customer", "invoice", "invoiceitem", "webhook_endpoint"])
def test_deleted_stubs_match_the_fixture(
    emu: StripeEmulator, http: httpx.Client, name: str
) -> None:
    theirs = fixture(f"deleted_{name}")
    customer = http.post("/v1/customers", data={"name": "Stub"}).json()
    ids = {
        "customer": customer["id"],
        "invoice": http.post("/v1/invoices", data={"customer": customer["id"]}).json()["id"],
        "invoiceitem": http.post(
            "/v1/invoiceitems", data={"customer": customer["id"], "amount": "1"}
        ).json()["id"],
        "webhook_endpoint": http.post(
            "/v1/webhook_endpoints",
            data={"url": "http://127.0.0.1:9/hook", "enabled_events[0]": "*"},
        ).json()["id"],
    }
    path = {"invoiceitem": "invoiceitems", "webhook_endpoint": "webhook_endpoints"}.get(
        name, name + "s"
    )
    response = http.delete(f"/v1/{path}/{ids[name]}")
    assert response.status_code == 200, response.text
    assert shape_problems(response.json(), theirs) == []
    assert response.json()["deleted"] is True


def test_the_shape_check_has_teeth() -> None:
    theirs = {"a": 1, "b": {"c": "x"}, "d": [{"e": True}]}
    assert shape_problems({"a": 1, "b": {"c": "y"}, "d": [{"e": False}]}, theirs) == []
    assert shape_problems({"a": "1", "b": {"c": "y"}, "d": []}, theirs) == [
        ".a: string here, integer in the fixture"
    ]
    assert shape_problems({"a": 1, "b": {}, "d": [{"e": 1}], "z": 0}, theirs) == [
        ".z: not in the fixture",
        ".b.c: missing",
        ".d[0].e: integer here, boolean in the fixture",
    ]
