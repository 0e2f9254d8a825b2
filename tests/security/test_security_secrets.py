"""Known secrets never surface: not in any log record at DEBUG, repr, error or CLI output.

The client secret and webhook key are chosen here; every access token the emulators mint is
captured; each is searched for raw and in its base64 and HTTP Basic forms.
"""

from __future__ import annotations

import base64
import logging
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner

from ams_billing import (
    BillingError,
    BillingService,
    ConfigurationError,
    Contact,
    InvoiceRequest,
    LineItem,
    RateLimitedError,
)
from ams_billing.cli import main
from ams_billing.core.signing import sign_body
from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    FaultKind,
    FaultRule,
    XeroEmulator,
    identity,
)
from ams_billing.emulators.xero.harness import EMULATOR_BASE_URL, emulator_settings
from ams_billing.providers.xero import Secret, XeroProvider, XeroSettings

CLIENT_ID = "SECURITYTESTCLIENTID000000000000"
CLIENT_SECRET = "k9-Client-Secret-Sentinel-7f3a"
WEBHOOK_KEY = "k9-Webhook-Key-Sentinel-b21c"
DEFAULTS = EmulatorConfig()  # what the CLI demo's emulator uses

REQUEST = InvoiceRequest(
    contact=Contact("acct-9", "Grace Hopper", "grace@example.org"),
    line_items=[LineItem("Membership", Decimal(1), Decimal("99.00"))],
    currency="NZD",
    issue_date=date(2026, 7, 1),
    due_date=date(2026, 7, 31),
    reference="SECRETS-1",
)


@pytest.fixture
def minted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    tokens: list[str] = []
    original = identity.TokenStore.issue

    def issue(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        token = original(self, *args, **kwargs)
        tokens.append(token.value)
        return token

    monkeypatch.setattr(identity.TokenStore, "issue", issue)
    return tokens


def forms(secret: str, client_id: str = CLIENT_ID) -> set[str]:
    b64 = base64.b64encode(secret.encode()).decode()
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {secret, b64, b64.rstrip("="), basic, basic.rstrip("=")}


def scan(texts: list[str], secrets: set[str]) -> list[tuple[str, str]]:
    return [(s[:6] + "...", t[:120]) for t in texts for s in secrets if s and s in t]


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    texts = []
    for record in caplog.records:
        texts += [formatter.format(record), str(record.msg), repr(record.args)]
    return texts


def test_xero_flows_and_failures_leak_no_secret(
    caplog: pytest.LogCaptureFixture, minted: list[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger, every level
    for name in ("ams_billing", "ams_billing.xero", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    config = EmulatorConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                            webhook_key=WEBHOOK_KEY, token_lifetime=1800)  # fmt: skip
    emulator = XeroEmulator(config, clock=EmulatorClock.virtual())
    settings = emulator_settings(emulator, EMULATOR_BASE_URL)
    clock = emulator.clock
    provider = XeroProvider(settings, transport=emulator.transport(),
                                  clock=clock.elapsed, sleep=clock.sleep)  # fmt: skip
    service = BillingService(provider)
    errors: list[BaseException] = []
    texts: list[str] = [repr(service), str(service), repr(provider), repr(settings),
                        str(settings), repr(provider.http), repr(provider.http.tokens)]  # fmt: skip

    invoice = service.create_invoice(REQUEST, idempotency_key="invoice:1")
    service.send_invoice(invoice)
    texts.append(service.get_invoice_url(invoice.provider_id))
    # 429s (a short one retried, a long one raised), and a 500 retried.
    emulator.add_fault(FaultRule(FaultKind.RATE_LIMIT_MINUTE, count=1, retry_after=2))
    emulator.add_fault(FaultRule(FaultKind.SERVER_ERROR, count=1))
    service.get_invoice(invoice.provider_id)
    emulator.add_fault(FaultRule(FaultKind.RATE_LIMIT_DAY, count=1, retry_after=7200))
    with pytest.raises(RateLimitedError) as limited:
        service.get_invoice(invoice.provider_id)
    errors.append(limited.value)
    clock.advance(7200)
    # The token expires in Xero while the provider still holds it: 401, re-mint, retry.
    provider.http.tokens._current = (Secret(minted[-1]), clock.elapsed() + 10_000)
    clock.advance(1900)
    service.get_invoice(invoice.provider_id)
    # Payment, webhook: genuine, then forged and tampered.
    emulator.record_payment(invoice.provider_id, invoice.total)
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"Q"}'
    for signature in (sign_body(body, WEBHOOK_KEY), sign_body(body, "x"), "", WEBHOOK_KEY):
        texts.append(repr(service.handle_webhook(body, {"x-xero-signature": signature})))
    try:
        service.parse_webhook(body, {"x-xero-signature": WEBHOOK_KEY})
    except BillingError as error:
        errors.append(error)
    # Wrong client secret: invalid_client.
    wrong = emulator_settings(emulator, EMULATOR_BASE_URL, client_secret=CLIENT_SECRET + "-old")
    bad = XeroProvider(wrong, transport=emulator.transport(), clock=clock.elapsed,
                             sleep=clock.sleep)  # fmt: skip
    try:
        BillingService(bad).get_invoice(invoice.provider_id)
    except BillingError as error:
        errors.append(error)
    # Bad settings: a ConfigurationError that names the variables, never their values.
    for overrides in ({"currency_code": "nzd!"}, {"account_code": ""}, {"timeout": -1}):
        try:
            emulator_settings(emulator, EMULATOR_BASE_URL, **overrides)
        except ConfigurationError as error:
            errors.append(error)
    try:
        XeroSettings.from_env(
            {"XERO_CLIENT_SECRET": CLIENT_SECRET, "XERO_WEBHOOK_KEY": WEBHOOK_KEY}
        )
    except ConfigurationError as error:
        errors.append(error)
    assert len(errors) >= 6
    assert any("invalid_client" in str(error) for error in errors)
    assert len(minted) >= 2  # the first token, and the one minted after the expiry
    assert any(call.status == 401 for call in emulator.calls)  # the expiry was really hit
    texts += [repr(e) for e in errors] + [str(e) for e in errors]
    texts += [repr(getattr(e, "__cause__", None)) for e in errors]
    texts += log_texts(caplog)
    assert caplog.records  # DEBUG logging really was on
    secrets = forms(CLIENT_SECRET) | forms(WEBHOOK_KEY) | set(minted)
    assert scan(texts, secrets) == []


@pytest.mark.parametrize("args", [["demo"], ["demo", "--provider", "fake"], ["providers"]])
def test_cli_output_and_logs_leak_no_secret(
    args: list[str], caplog: pytest.LogCaptureFixture, minted: list[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(main, [*args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    if args == ["demo"]:
        assert minted  # the demo's emulator really minted tokens
    secrets = (
        forms(DEFAULTS.client_secret, DEFAULTS.client_id)
        | forms(DEFAULTS.webhook_key)
        | set(minted)
    )
    texts = [result.output, *log_texts(caplog)]
    assert scan(texts, secrets) == []
