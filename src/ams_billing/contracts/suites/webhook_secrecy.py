"""Contract: a refused webhook delivery learns its sender nothing about the right signature.

Whoever sends a forged delivery reads the answer, and often the logs or the error reports
where the refusal ends up. A refusal that says which signature was expected ("expected X, got
Y") hands a forger the signature of the body they sent: the next attempt verifies. So no part
of a refusal may contain the signature that would have been valid for the body received, in
any of its usual spellings (Base64, URL-safe Base64, hex), nor any 8-character piece of one,
nor a secret of the provider (the harness's ``secrets``: its webhook key, its client secret).

A refusal here is everything a caller or an operator may see of it:

- the :class:`~ams_billing.core.errors.WebhookVerificationError` ``parse_webhook`` raises:
  its message, ``repr``, ``args``, notes and attributes, and the same of every exception in its
  ``__cause__``/``__context__`` chain, and the traceback as printed;
- what was logged meanwhile (at every level);
- the :class:`~ams_billing.core.service.WebhookResponse` ``handle_webhook`` returns (its
  status, ``reason`` and ``repr``).

The deliveries are refused four ways: a changed body and a reformatted body under the genuine
signature (the signature valid for the body received comes from the driver's
:class:`~ams_billing.testing.harness.WebhookSigner`; those two skip without one), a corrupted
signature and an absent one (the valid one is the genuine delivery's own).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import traceback
from collections.abc import Callable, Iterator

import attrs
import pytest

from ams_billing.contracts.builders import unpaid_invoice
from ams_billing.contracts.capabilities import require_capability, require_webhook_signer
from ams_billing.contracts.case import ContractCase
from ams_billing.contracts.checks import reformatted, retargeted, signature_headers
from ams_billing.core.errors import WebhookVerificationError
from ams_billing.core.models import Capability
from ams_billing.core.signing import header_value
from ams_billing.testing.harness import ContractHarness, SignedDelivery

__all__ = ["PIECE", "WebhookSecrecyContract", "spellings"]

PIECE = 8
"""The length of the shortest piece of a valid signature a refusal must not contain."""

_ENCODED = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_CHAIN_LIMIT = 50


def spellings(signature: str) -> dict[str, str]:
    """``signature`` and the other usual spellings of the digest(s) it carries, by name.

    Each run of 16 or more Base64 or hex characters in it (a header may add a prefix such as
    ``sha256=`` or carry several parts) is decoded and spelt again in hex (both cases), Base64
    and URL-safe Base64, with and without padding.
    """
    found = {"as sent": signature}
    for number, part in enumerate(_ENCODED.findall(signature)):
        for raw in _decodings(part):
            encoded = base64.b64encode(raw).decode("ascii")
            urlsafe = base64.urlsafe_b64encode(raw).decode("ascii")
            for name, form in (
                ("in hex", raw.hex()),
                ("in upper-case hex", raw.hex().upper()),
                ("in Base64", encoded),
                ("in URL-safe Base64", urlsafe),
                ("in Base64 without padding", encoded.rstrip("=")),
                ("in URL-safe Base64 without padding", urlsafe.rstrip("=")),
            ):
                if form not in found.values():
                    found[f"{name} (part {number})"] = form
    return found


def _decodings(part: str) -> Iterator[bytes]:
    if re.fullmatch(r"[0-9a-fA-F]+", part) and len(part) % 2 == 0:
        yield bytes.fromhex(part)
    padded = part + "=" * (-len(part) % 4)
    for altchars in (None, b"-_"):
        try:
            yield base64.b64decode(padded, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue


def _shifted(value: str) -> str:
    """Every letter and digit moved one on: a wrong signature sharing no piece with ``value``."""

    def shift(char: str) -> str:
        for first, size in (("a", 26), ("A", 26), ("0", 10)):
            if first <= char < chr(ord(first) + size):
                return chr(ord(first) + (ord(char) - ord(first) + 1) % size)
        return char

    return "".join(shift(char) for char in value)


Forgery = Callable[[ContractHarness, SignedDelivery, list[str]], tuple[SignedDelivery, list[str]]]
"""From a genuine delivery and its signature headers: a forged delivery, and the signature
values that would have been valid for its body."""


def _valid_for(harness: ContractHarness, body: bytes, names: list[str]) -> list[str]:
    signed = require_webhook_signer(harness).sign_webhook_body(body)
    values = [header_value(signed.headers, name) for name in names]
    assert all(values), f"the driver's signed body has no {names} header"
    return [value for value in values if value]


def _tampered_body(tamper: Callable[[SignedDelivery], SignedDelivery]) -> Forgery:
    def forge(
        harness: ContractHarness, delivery: SignedDelivery, names: list[str]
    ) -> tuple[SignedDelivery, list[str]]:
        forged = tamper(delivery)
        assert forged.body != delivery.body
        return forged, _valid_for(harness, forged.body, names)

    return forge


def _corrupted_signature(
    harness: ContractHarness, delivery: SignedDelivery, names: list[str]
) -> tuple[SignedDelivery, list[str]]:
    headers = {
        name: _shifted(value) if name in names else value
        for name, value in delivery.headers.items()
    }
    return attrs.evolve(delivery, headers=headers), [delivery.headers[name] for name in names]


def _absent_signature(
    harness: ContractHarness, delivery: SignedDelivery, names: list[str]
) -> tuple[SignedDelivery, list[str]]:
    headers = {name: value for name, value in delivery.headers.items() if name not in names}
    return attrs.evolve(delivery, headers=headers), [delivery.headers[name] for name in names]


FORGERIES: dict[str, Forgery] = {
    "changed-body": _tampered_body(retargeted),
    "reformatted-body": _tampered_body(reformatted),
    "corrupted-signature": _corrupted_signature,
    "absent-signature": _absent_signature,
}
"""The ways a delivery is refused here."""


def _exception_texts(error: BaseException) -> Iterator[tuple[str, str]]:
    """Where an exception says something, and what: itself and its whole chain."""
    yield "the traceback as printed", "".join(traceback.format_exception(error))
    seen: set[int] = set()
    todo: list[tuple[str, BaseException]] = [("the error", error)]
    while todo and len(seen) < _CHAIN_LIMIT:
        where, each = todo.pop()
        if id(each) in seen:
            continue
        seen.add(id(each))
        yield f"{where}'s message", str(each)
        yield f"{where}'s repr", repr(each)
        yield f"{where}'s args", repr(each.args)
        for note in getattr(each, "__notes__", ()):
            yield f"{where}'s notes", str(note)
        for name, value in vars(each).items():
            yield f"{where}'s attribute {name}", repr(value)
        if each.__cause__ is not None:
            todo.append((f"{where}'s __cause__", each.__cause__))
        if each.__context__ is not None:
            todo.append((f"{where}'s __context__", each.__context__))
        if isinstance(each, BaseExceptionGroup):
            todo.extend((f"{where}'s member", member) for member in each.exceptions)


def _refusal_texts(
    harness: ContractHarness, caplog: pytest.LogCaptureFixture, forged: SignedDelivery
) -> list[tuple[str, str]]:
    """Everything a caller or an operator may see of the refusal of ``forged``."""
    with caplog.at_level(logging.DEBUG):
        caplog.clear()
        with pytest.raises(WebhookVerificationError) as raised:
            harness.service.parse_webhook(forged.body, forged.headers)
        response = harness.service.handle_webhook(forged.body, forged.headers)
        assert (response.status, response.delivery) == (401, None)
        logged = [(f"the log ({r.name}, {r.levelname})", r.getMessage()) for r in caplog.records]
        logged.append(("the log as formatted", caplog.text))
    return [
        *_exception_texts(raised.value),
        *logged,
        ("handle_webhook's reason", str(response.reason)),
        ("handle_webhook's response", repr(response)),
    ]


def _leaks(texts: list[tuple[str, str]], secret: str, length: int) -> list[str]:
    """Where ``texts`` contain a piece of ``secret`` ``length`` characters long.

    Said by position, not by content: a failing test does not print the secret either.
    """
    if not secret:
        return []
    found: list[str] = []
    for start in range(max(1, len(secret) - length + 1)):
        piece = secret[start : start + length]
        found.extend(
            f"{where} (characters {start} to {start + len(piece)} of it)"
            for where, text in texts
            if piece in text
        )
    return found


def _genuine(harness: ContractHarness) -> SignedDelivery:
    harness.driver.take_webhook_deliveries()  # whatever came before is not this test's
    invoice = unpaid_invoice(harness)
    harness.driver.record_payment(invoice.provider_id, invoice.amount_due)
    deliveries = harness.driver.take_webhook_deliveries()
    assert deliveries, "the driver produced no webhook delivery after a payment"
    return deliveries[0]


class WebhookSecrecyContract(ContractCase):
    """What a refused delivery's error, logs and answer must never contain."""

    @pytest.mark.parametrize("forgery", list(FORGERIES))
    def test_refused_delivery_reveals_no_valid_signature(
        self, harness: ContractHarness, caplog: pytest.LogCaptureFixture, forgery: str
    ) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        delivery = _genuine(harness)
        forged, valid = FORGERIES[forgery](harness, delivery, signature_headers(harness, delivery))
        texts = _refusal_texts(harness, caplog, forged)
        for signature in valid:
            leaks = [
                f"{leak}, spelt {spelling}"
                for spelling, form in spellings(signature).items()
                for leak in _leaks(texts, form, PIECE)
            ]
            assert not leaks, (
                "a refused delivery revealed the signature that would have been valid for its "
                f"body, or a piece of it: {leaks[:5]}"
            )

    @pytest.mark.parametrize("forgery", list(FORGERIES))
    def test_refused_delivery_reveals_no_secret(
        self, harness: ContractHarness, caplog: pytest.LogCaptureFixture, forgery: str
    ) -> None:
        require_capability(harness, Capability.WEBHOOKS)
        if not harness.secrets:
            pytest.skip(
                "the harness names no secrets (set ContractHarness.secrets to the provider's "
                "webhook key and other secrets to check that no refusal reveals them)"
            )
        delivery = _genuine(harness)
        forged, _ = FORGERIES[forgery](harness, delivery, signature_headers(harness, delivery))
        texts = _refusal_texts(harness, caplog, forged)
        for index, secret in enumerate(harness.secrets):
            leaks = _leaks(texts, secret, max(PIECE, len(secret) // 2))
            assert not leaks, (
                f"a refused delivery revealed the harness's secret number {index} (or a piece "
                f"of it half its length): {leaks[:5]}"
            )
