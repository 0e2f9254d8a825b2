from __future__ import annotations

import base64
import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from ams_billing.core.signing import header_value, sign_body, signature_matches


def test_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"events":[]}'
    expected = base64.b64encode(hmac.new(b"key", body, hashlib.sha256).digest()).decode()
    assert sign_body(body, "key") == expected
    assert signature_matches(body, expected, "key")


@given(body=st.binary(max_size=512), key=st.text(min_size=1, max_size=64))
def test_any_change_to_body_or_key_fails(body: bytes, key: str) -> None:
    signature = sign_body(body, key)
    assert signature_matches(body, signature, key)
    assert not signature_matches(body + b"\x00", signature, key)
    assert not signature_matches(body, signature, key + "x")
    assert not signature_matches(body, signature[:-2], key)


def test_absent_empty_or_non_ascii_signatures_never_match() -> None:
    assert not signature_matches(b"", None, "key")
    assert not signature_matches(b"", "", "key")
    assert not signature_matches(b"", sign_body(b"", ""), "")
    assert not signature_matches(b"", "é" * 44, "key")


def test_header_lookup_ignores_case() -> None:
    assert header_value({"X-Xero-Signature": "abc"}, "x-xero-signature") == "abc"
    assert header_value({}, "x-xero-signature") is None


def test_whitespace_around_a_signature_is_part_of_it() -> None:
    # HTTP servers strip a header value's surrounding whitespace (RFC 9110 5.5) before the
    # application sees it; whitespace still there was sent inside the value.
    signature = sign_body(b"{}", "key")
    for padded in (f" {signature}", f"{signature} ", f"{signature}\n", f"\t{signature}\t"):
        assert not signature_matches(b"{}", padded, "key"), repr(padded)
    assert signature_matches(b"{}", signature, "key")
