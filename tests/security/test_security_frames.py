"""Secrets never sit in the frame locals of a failure, where error reporters would record them.

Sentry (and reporters like it) records, for every frame of an exception's traceback and of its
``__cause__`` / ``__context__`` chain, the ``repr`` of each local variable, walking into
mappings and sequences item by item. :func:`recorded` does the same (following the context
chain even where it is suppressed), and every test fails a real flow and searches what it
recorded for the client secret, the webhook key, their base64 and HTTP Basic forms, and every
access token the emulator minted. The test's own frames are left out: they hold the secrets
the test chose.
"""

from __future__ import annotations

import base64
import socket
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType

import httpx
import pytest

from ams_billing import (
    AuthenticationError,
    BillingError,
    ConfigurationError,
    NotFoundError,
    ProviderUnavailableError,
    load_service,
)
from ams_billing.contracts import ContractHarness
from ams_billing.emulators.xero import (
    EmulatorConfig,
    FaultKind,
    FaultRule,
    XeroEmulator,
    identity,
)
from ams_billing.emulators.xero.harness import XeroTestDriver, loopback_harness
from ams_billing.providers.xero import XeroProvider, XeroSettings

CLIENT_ID = "FRAMESTESTCLIENTID00000000000000"
CLIENT_SECRET = "f7-Client-Secret-In-Frames-2c9d"
WEBHOOK_KEY = "f7-Webhook-Key-In-Frames-88e1"
CONFIG = EmulatorConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, webhook_key=WEBHOOK_KEY)
HERE = str(Path(__file__).resolve())
UNKNOWN = "00000000-0000-4000-8000-00000000dead"


def forms(secret: str, client_id: str = CLIENT_ID) -> set[str]:
    b64 = base64.b64encode(secret.encode()).decode()
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {secret, b64.rstrip("="), basic.rstrip("=")}


def _values(value: object, depth: int = 0) -> Iterator[str]:
    """What a frame-locals reporter records of one value: its repr, containers item by item."""
    if depth > 8:
        return
    if isinstance(value, Mapping):
        for key, item in list(value.items())[:500]:
            yield repr(key)
            yield from _values(item, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in list(value)[:500]:
            yield from _values(item, depth + 1)
    else:
        try:
            yield repr(value)
        except Exception as error:  # a broken repr records nothing of the value
            yield f"<repr failed: {type(error).__name__}>"


def recorded(error: BaseException) -> list[str]:
    """Everything a frame-locals reporter records of ``error`` and its chain."""
    texts = ["".join(traceback.format_exception(error))]
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current)]
        tb: TracebackType | None = current.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if frame.f_code.co_filename != HERE:
                for name, value in frame.f_locals.items():
                    texts.append(f"{frame.f_code.co_name}.{name}")
                    texts.extend(_values(value))
            tb = tb.tb_next
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
    return texts


def leaks(error: BaseException, secrets: set[str]) -> list[str]:
    return sorted(
        {f"{secret[:8]}... in {text[:160]!r}" for text in recorded(error) for secret in secrets
         if secret and secret in text}
    )  # fmt: skip


def failure(action: Callable[[], object]) -> BaseException:
    try:
        action()
    except BillingError as error:
        return error
    raise AssertionError("the action did not fail")


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


@pytest.fixture
def loopback() -> Iterator[ContractHarness]:
    """The provider over real HTTP to the emulator on 127.0.0.1 (tests/xero's harness)."""
    harness = loopback_harness(CONFIG)
    try:
        yield harness
    finally:
        harness.close()


def emulator_of(harness: ContractHarness) -> XeroEmulator:
    driver = harness.driver
    assert isinstance(driver, XeroTestDriver)
    return driver.emulator


def secrets_of(minted: list[str]) -> set[str]:
    return forms(CLIENT_SECRET) | forms(WEBHOOK_KEY) | set(minted)


def test_a_refused_token_request_leaves_no_secret_in_any_frame(minted: list[str]) -> None:
    wrong = "f7-Wrong-Secret-Still-Secret-41b0"
    harness = loopback_harness(CONFIG, client_secret=wrong)
    try:
        error = failure(lambda: harness.service.get_invoice_url(UNKNOWN))
    finally:
        harness.close()
    assert isinstance(error, AuthenticationError)
    assert leaks(error, secrets_of(minted) | forms(wrong)) == []


def test_an_unreachable_token_endpoint_leaves_no_secret_in_any_frame() -> None:
    with socket.socket() as bound:  # bound but not listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}"
        settings = XeroSettings(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            webhook_key=WEBHOOK_KEY,
            account_code="200",
            currency_code="NZD",
            api_url=url,
            identity_url=url,
            max_attempts=2,
        )
        transport = httpx.HTTPTransport()
        with XeroProvider(settings, transport=transport, sleep=lambda _: None) as provider:
            error = failure(lambda: provider.get_invoice_url(UNKNOWN))
    assert isinstance(error, ProviderUnavailableError)
    assert leaks(error, secrets_of([])) == []


def test_a_failed_api_call_leaves_no_token_in_any_frame(
    loopback: ContractHarness, minted: list[str]
) -> None:
    service = loopback.service
    error = failure(lambda: service.get_invoice_url(UNKNOWN))  # a 404 from the transport
    assert isinstance(error, NotFoundError)
    assert minted
    assert leaks(error, secrets_of(minted)) == []


def test_retried_server_errors_leave_no_token_in_any_frame(
    loopback: ContractHarness, minted: list[str]
) -> None:
    emulator = emulator_of(loopback)
    loopback.service.get_invoices(["00000000-0000-4000-8000-00000000dead"])  # mint a token
    emulator.add_fault(FaultRule(FaultKind.SERVER_ERROR, method="GET", path="Invoices"))
    error = failure(lambda: loopback.service.get_invoices(["00000000-0000-4000-8000-0000000000aa"]))
    assert isinstance(error, ProviderUnavailableError)
    assert error.__context__ is not None  # the retries' chain is walked too
    assert minted
    assert leaks(error, secrets_of(minted)) == []


def test_a_dropped_connection_leaves_no_token_in_any_frame(
    loopback: ContractHarness, minted: list[str]
) -> None:
    emulator = emulator_of(loopback)
    loopback.service.get_invoices(["00000000-0000-4000-8000-00000000dead"])  # mint a token
    emulator.add_fault(FaultRule(FaultKind.DROP_AFTER, method="GET", path="Invoices"))
    error = failure(lambda: loopback.service.get_invoices(["00000000-0000-4000-8000-0000000000bb"]))
    assert isinstance(error, ProviderUnavailableError)
    assert minted
    assert leaks(error, secrets_of(minted)) == []


BAD_ENVIRONMENT = {
    "AMS_BILLING_SERVICE_CLASS": "xero",
    "XERO_CLIENT_ID": CLIENT_ID,
    "XERO_CLIENT_SECRET": CLIENT_SECRET,
    "XERO_WEBHOOK_KEY": WEBHOOK_KEY,
    "XERO_ACCOUNT_CODE": "200",
    "XERO_AMOUNT_TYPE": "INCLUSIVE",
    "XERO_CURRENCY_CODE": "NZD",
    "XERO_TIMEOUT": "inf",  # the one mistake
}


@pytest.mark.parametrize(
    "build",
    [
        lambda: load_service(environ=dict(BAD_ENVIRONMENT)),
        lambda: XeroSettings.from_env(dict(BAD_ENVIRONMENT)),
        lambda: XeroProvider.from_env(dict(BAD_ENVIRONMENT)),
    ],
    ids=["load_service", "XeroSettings.from_env", "XeroProvider.from_env"],
)
def test_a_bad_configuration_leaves_no_secret_in_any_frame(build: Callable[[], object]) -> None:
    error = failure(build)
    assert isinstance(error, ConfigurationError)
    assert "XERO_TIMEOUT" in str(error)
    assert leaks(error, secrets_of([])) == []
