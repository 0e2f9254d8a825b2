"""Rate limits, pacing and logging, on the emulator's virtual clock: nothing really sleeps."""

from __future__ import annotations

import contextlib
import logging
import threading

import attrs
import pytest
from xero_rig import Rig

from ams_billing import RateLimitedError
from ams_billing.emulators.xero import EmulatorConfig, FaultKind, FaultRule
from ams_billing.providers.xero.pacing import Pacer


def _invoice(rig: Rig, membership) -> str:
    return rig.service.create_invoice(membership, idempotency_key="invoice:1").provider_id


def test_a_429_is_retried_after_its_retry_after(rig: Rig, membership) -> None:
    invoice_id = _invoice(rig, membership)
    rig.emulator.add_fault(
        FaultRule(FaultKind.RATE_LIMIT_MINUTE, method="GET", count=1, retry_after=7)
    )
    started = rig.emulator.clock.elapsed()
    assert rig.service.get_invoice(invoice_id).provider_id == invoice_id
    assert rig.emulator.clock.elapsed() - started == pytest.approx(7)
    assert rig.statuses("GET", "/Invoices") == [429, 200]


def test_a_long_retry_after_fails_at_once_and_holds_every_call(rig: Rig, membership) -> None:
    invoice_id = _invoice(rig, membership)
    rig.emulator.add_fault(
        FaultRule(FaultKind.RATE_LIMIT_DAY, method="GET", count=1, retry_after=66975)
    )
    with pytest.raises(RateLimitedError) as raised:
        rig.service.get_invoice(invoice_id)
    assert (raised.value.retry_after, raised.value.limit) == (66975, "day")
    sent = len(rig.api())
    with pytest.raises(RateLimitedError) as again:
        rig.service.get_invoice_url(invoice_id)
    assert again.value.limit == "day"
    assert 0 < again.value.retry_after <= 66975
    assert len(rig.api()) == sent  # failed fast: no request
    rig.emulator.clock.advance(66975)
    assert rig.service.get_invoice_url(invoice_id)


def test_the_retry_after_cap_is_configurable(make_rig, membership) -> None:
    rig = make_rig(max_retry_wait=5)
    invoice_id = _invoice(rig, membership)
    rig.emulator.add_fault(
        FaultRule(FaultKind.RATE_LIMIT_MINUTE, method="GET", count=1, retry_after=30)
    )
    with pytest.raises(RateLimitedError) as raised:
        rig.service.get_invoice(invoice_id)
    assert (raised.value.retry_after, raised.value.limit) == (30, "minute")


def test_a_429_without_retry_after_backs_off(rig: Rig, membership) -> None:
    invoice_id = _invoice(rig, membership)
    rig.transport.script(1, 429, b"", method="GET", path="/Invoices", content_type="text/plain")
    started = rig.emulator.clock.elapsed()
    rig.service.get_invoice(invoice_id)
    assert 0.5 <= rig.emulator.clock.elapsed() - started <= 1.0


def test_a_create_hit_by_a_429_is_retried_without_a_duplicate(rig: Rig, membership) -> None:
    rig.emulator.add_fault(
        FaultRule(FaultKind.RATE_LIMIT_MINUTE, method="PUT", count=2, retry_after=3)
    )
    rig.service.create_invoice(membership, idempotency_key="invoice:1")
    assert len(rig.emulator.books().invoices) == 1
    assert rig.statuses("PUT", "/Invoices") == [429, 429, 200]


def test_pacing_keeps_within_sixty_calls_a_minute(rig: Rig, membership) -> None:
    invoice_id = _invoice(rig, membership)
    started = rig.emulator.clock.elapsed()
    for _ in range(130):
        rig.service.get_invoice(invoice_id)
    assert all(call.status != 429 for call in rig.emulator.calls)
    assert rig.emulator.clock.elapsed() - started >= 120
    assert rig.emulator.config.limits is not None


def test_x_minlimit_remaining_zero_waits_for_the_window(rig: Rig, membership) -> None:
    invoice_id = _invoice(rig, membership)
    rig.provider.http.pacer.observe({"x-minlimit-remaining": "0"})
    started = rig.emulator.clock.elapsed()
    rig.service.get_invoice(invoice_id)
    assert rig.emulator.clock.elapsed() - started > 0


def test_no_more_than_five_calls_are_in_flight() -> None:
    ticks = [0.0]
    pacer = Pacer(clock=lambda: ticks[0], sleep=lambda s: ticks.__setitem__(0, ticks[0] + s))
    entered = threading.Event()

    def sixth() -> None:
        with pacer.slot():
            entered.set()

    with contextlib.ExitStack() as stack:
        for _ in range(5):
            stack.enter_context(pacer.slot())
        thread = threading.Thread(target=sixth)
        thread.start()
        assert not entered.wait(timeout=0.05)
    thread.join()
    assert entered.is_set()


def test_concurrent_threads_never_trip_the_concurrent_limit(rig: Rig, membership) -> None:
    invoice_id = _invoice(rig, membership)
    rig.transport.clear()
    release = threading.Event()
    rig.emulator.add_fault(FaultRule(FaultKind.SLOW, method="GET", hold=release, count=10))
    threads = [
        threading.Thread(target=rig.service.get_invoice, args=(invoice_id,)) for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for _ in range(400):  # until five requests are held inside the emulator
        if len(rig.api("GET")) >= 5:
            break
        release.wait(0.005)
    release.wait(0.05)  # a grace period in which a sixth request would show up
    assert len(rig.api("GET")) == 5
    release.set()
    for thread in threads:
        thread.join()
    assert all(call.limit_problem != "concurrent" for call in rig.emulator.calls)
    assert rig.statuses("GET", "/Invoices").count(200) == 10


def test_each_call_is_logged_without_bodies_or_headers(
    rig: Rig, membership, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ams_billing.xero")
    rig.service.create_invoice(membership, idempotency_key="invoice:1")
    put = next(c for c in rig.emulator.calls if c.endpoint == "PUT /Invoices")
    lines = [r.getMessage() for r in caplog.records if r.name == "ams_billing.xero"]
    assert any(
        line.startswith("Xero PUT /api.xro/2.0/Invoices -> 200 in ")
        and f"(Xero-Correlation-Id {put.correlation_id})" in line
        for line in lines
    )
    assert not any("Annual membership" in line or "Bearer" in line for line in lines)
    assert not any("summarizeErrors" in line for line in lines)


def test_rate_limits_off_in_the_emulator_still_paces_calls(make_rig, membership) -> None:
    rig = make_rig(EmulatorConfig(rate_limits=False))
    invoice_id = _invoice(rig, membership)
    for _ in range(61):
        rig.service.get_invoice(invoice_id)
    assert rig.emulator.clock.elapsed() >= 60


def test_the_harness_settings_are_the_emulators(rig: Rig) -> None:
    assert rig.provider.settings.client_id == rig.emulator.config.client_id
    assert attrs.asdict(rig.emulator.config)["tenant_id"] == rig.provider.settings.tenant_id
