"""Tokens: minted once, shared, renewed a minute early, re-minted once when Xero refuses one."""

from __future__ import annotations

import threading

import pytest
from xero_rig import Rig

from ams_billing import AuthenticationError
from ams_billing.emulators.xero.harness import TestTransport
from ams_billing.providers.xero.auth import RENEW_BEFORE, MintedToken, TokenCache

TOKEN = "POST /connect/token"


def test_one_token_serves_many_calls(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    for _ in range(5):
        rig.service.get_invoice(invoice.provider_id)
    assert rig.endpoint_count(TOKEN) == 1


def test_the_token_is_renewed_a_minute_before_it_expires(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    rig.emulator.clock.advance(1800 - RENEW_BEFORE - 1)
    rig.service.get_invoice(invoice.provider_id)
    assert rig.endpoint_count(TOKEN) == 1
    rig.emulator.clock.advance(2)
    rig.service.get_invoice(invoice.provider_id)
    assert rig.endpoint_count(TOKEN) == 2
    assert all(call.status != 401 for call in rig.emulator.calls)


def test_an_expired_token_is_minted_again_once(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    # The provider's clock says the token is fresh; Xero's says it expired (clock skew).
    provider = rig.second_provider(clock=lambda: 0.0)
    provider.get_invoices([invoice.provider_id])
    rig.emulator.clock.advance(1800)
    assert provider.get_invoices([invoice.provider_id])[0].provider_id == invoice.provider_id
    assert rig.statuses("GET", "/Invoices") == [200, 401, 200]
    assert provider.http.tokens.mints == 2


def test_a_token_refused_twice_is_an_authentication_error(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    problem = {"Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired: token expired"}
    rig.transport.script(2, 401, problem, method="GET", path="/Invoices")
    with pytest.raises(AuthenticationError, match="XERO_CLIENT_ID"):
        rig.service.get_invoice(invoice.provider_id)
    assert rig.endpoint_count(TOKEN) == 2


def test_an_unknown_token_is_minted_again_once(rig: Rig, member) -> None:
    rig.service.create_contact(member, idempotency_key="contact:1")
    problem = {"Title": "Unauthorized", "Status": 401, "Detail": "AuthenticationUnsuccessful"}
    rig.transport.script(1, 401, problem, method="POST", path="/Contacts")
    rig.service.create_contact(member, idempotency_key="contact:2")
    assert rig.endpoint_count(TOKEN) == 2


def test_minting_happens_once_however_many_threads_want_a_token() -> None:
    minted: list[str] = []
    waiting = threading.Event()
    cache: TokenCache

    def mint() -> MintedToken:
        minted.append("token")
        # While this mint is in flight, other threads ask for a token: they must wait for it.
        others = [threading.Thread(target=cache.get, args=(mint,)) for _ in range(8)]
        for thread in others:
            thread.start()
        for thread in others:
            thread.join(timeout=0.05)
        waiting.set()
        assert all(thread.is_alive() for thread in others)  # blocked on the lock, not minting
        threads.extend(others)
        return MintedToken("token", 1800)

    threads: list[threading.Thread] = []
    cache = TokenCache(clock=lambda: 0.0)
    assert cache.get(mint).reveal() == "token"
    for thread in threads:
        thread.join()
    assert waiting.is_set()
    assert minted == ["token"]
    assert cache.mints == 1


def test_many_threads_through_the_provider_mint_one_token(rig: Rig, membership) -> None:
    invoice = rig.service.create_invoice(membership, idempotency_key="invoice:1")
    provider = rig.second_provider()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            provider.get_invoices([invoice.provider_id])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(12)]
    before = rig.endpoint_count(TOKEN)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert rig.endpoint_count(TOKEN) == before + 1


def test_providers_of_one_connection_share_its_token_and_pacing() -> None:
    from ams_billing.providers.xero import XeroProvider, XeroSettings

    fields = {
        "client_id": "shared-client",
        "client_secret": "secret",
        "webhook_key": "key",
        "account_code": "200",
        "currency_code": "NZD",
    }
    with (
        XeroProvider(XeroSettings(**fields)) as first,
        XeroProvider(XeroSettings(**fields)) as second,
        XeroProvider(XeroSettings(**fields | {"client_secret": "other"})) as other,
    ):
        assert first.http.tokens is second.http.tokens
        assert first.http.pacer is second.http.pacer
        assert other.http.tokens is not first.http.tokens


def test_token_cache_repr_hides_the_token() -> None:
    cache = TokenCache(clock=lambda: 0.0)
    cache.get(lambda: MintedToken("very-secret-token", 1800))
    assert "very-secret-token" not in repr(cache)
    assert "very-secret-token" not in repr(MintedToken("very-secret-token", 1))


def test_transport_recording_redacts_authorization(rig: Rig, member) -> None:
    rig.service.create_contact(member, idempotency_key="contact:1")
    assert isinstance(rig.transport, TestTransport)
    assert {r.headers["authorization"] for r in rig.transport.requests} == {"<redacted>"}


def test_token_expiry_follows_a_scaled_clock() -> None:
    now = [0.0]
    cache = TokenCache(clock=lambda: now[0], time_scale=60)
    mints: list[int] = []

    def mint() -> MintedToken:
        mints.append(1)
        return MintedToken(f"token-{len(mints)}", 1800)  # Xero seconds: 30 s of this clock

    cache.get(mint)
    now[0] = (1800 - RENEW_BEFORE) / 60 - 0.01
    cache.get(mint)
    assert len(mints) == 1
    now[0] = (1800 - RENEW_BEFORE) / 60 + 0.01
    cache.get(mint)
    assert len(mints) == 2
    with pytest.raises(ValueError, match="positive"):
        TokenCache(clock=lambda: 0.0, time_scale=0)


def test_a_scaled_run_mints_one_token_and_sees_no_401(rig: Rig, membership) -> None:
    # The provider's clock runs 60 times slower than the emulator's (as time.monotonic does
    # beside an emulator at EmulatorClock.real(scale=60)), and its settings say so.
    provider = rig.second_provider(
        clock=lambda: rig.emulator.clock.elapsed() / 60, rate_limit_time_scale=60.0
    )
    invoice = provider.create_invoice(membership, idempotency_key="invoice:scaled")
    for _ in range(10):  # a run of 29 Xero minutes: one token lifetime, less the minute
        rig.emulator.clock.advance(173)
        provider.get_invoices([invoice.provider_id])
    assert provider.http.tokens.mints == 1
    rig.emulator.clock.advance(60)  # past the renewal point: renewed before Xero refuses it
    provider.get_invoices([invoice.provider_id])
    assert provider.http.tokens.mints == 2
    assert all(call.status != 401 for call in rig.emulator.calls)
