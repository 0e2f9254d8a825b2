"""Hostile requests against the Django webhook view: never a 5xx, 401 unless signed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from ams_billing.contrib.django.service import reset_billing_service
from ams_billing.core.signing import sign_body

URL = "/billing/xero/webhooks/"
KEY = "django-test-webhook-key"
INTENT = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"tenantId":"fake-tenant"}'


@pytest.fixture(autouse=True)
def fresh_service() -> Iterator[None]:
    reset_billing_service()
    yield
    reset_billing_service()


def post(body: bytes, content_type: str = "application/json", **meta: str) -> int:
    client = Client(raise_request_exception=False)
    return client.post(URL, data=body, content_type=content_type, **meta).status_code


@pytest.mark.parametrize(
    ("body", "meta"),
    [
        (INTENT, {}),
        (INTENT, {"HTTP_X_FAKE_SIGNATURE": ""}),
        (INTENT, {"HTTP_X_FAKE_SIGNATURE": sign_body(INTENT, "wrong")}),
        (INTENT, {"HTTP_X_FAKE_SIGNATURE": sign_body(INTENT, KEY)[:10]}),
        (b"[" * 100_000 + b"]" * 100_000, {"HTTP_X_FAKE_SIGNATURE": "A" * 44}),
        (bytes(range(256)), {"HTTP_X_FAKE_SIGNATURE": "x"}),
    ],
)
def test_unsigned_and_badly_signed_deliveries_are_401(body: bytes, meta: dict[str, str]) -> None:
    assert post(body, **meta) == 401


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe", b"{}", b""],
    ids=["deep", "bin", "{}", "0"],
)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data"])
def test_signed_garbage_is_never_a_5xx(body: bytes, content_type: str) -> None:
    assert post(body, content_type, HTTP_X_FAKE_SIGNATURE=sign_body(body, KEY)) == 200


def test_a_declared_length_past_the_cap_is_413() -> None:
    assert post(INTENT, CONTENT_LENGTH=str(1024**3)) == 413


@pytest.mark.parametrize("length", ["abc", "-1", "1e9", " "])
def test_a_malformed_content_length_is_not_a_5xx(length: str) -> None:
    status = post(INTENT, CONTENT_LENGTH=length, HTTP_X_FAKE_SIGNATURE=sign_body(INTENT, KEY))
    assert status < 500
