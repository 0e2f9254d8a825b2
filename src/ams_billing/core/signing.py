"""HMAC-SHA256 webhook signatures over raw bytes, compared in constant time.

This is Xero's scheme (``x-xero-signature`` = Base64(HMAC-SHA256(key, body))), and the fake
provider signs its deliveries the same way, so one well-tested helper serves both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

__all__ = ["header_value", "sign_body", "signature_matches"]


def sign_body(body: bytes, key: str) -> str:
    """Return Base64(HMAC-SHA256(key, body)), the value of the signature header."""
    digest = hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(body: bytes, signature: str | None, key: str) -> bool:
    """Tell whether ``signature`` signs ``body`` with ``key``, in constant time.

    The comparison is exact: case, length and surrounding whitespace all count. Whitespace
    around a header value (HTTP's OWS) is not part of the value, and every HTTP server strips
    it before the application sees the header (RFC 9110, section 5.5); whitespace still there
    was sent inside the value, so the value is not the signature. An absent or empty
    signature, or an empty key, never matches.
    """
    if not signature or not key:
        return False
    expected = sign_body(body, key).encode("ascii")
    try:
        given = signature.encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """Look a header up case-insensitively in any mapping.

    Returns ``None`` when absent. A header sent twice with different values (joined with a
    comma by most servers) is returned joined, and so fails verification.
    """
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None
