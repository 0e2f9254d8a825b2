"""Response holds: the change is in the books while its answer is still in flight."""

from __future__ import annotations

import threading

import httpx
import pytest
from emulator_helpers import API

from ams_billing.contracts.xero_emulator import authorised_client
from ams_billing.emulators.xero import EmulatorServer, XeroEmulator


def _put_contact(client: httpx.Client, name: str, out: dict[str, object]) -> None:
    try:
        out["response"] = client.put(
            f"{API}/Contacts", json={"Name": name}, headers={"Idempotency-Key": f"k-{name}"}
        )
    except httpx.HTTPError as error:
        out["error"] = error


def test_an_applied_create_is_held_until_released_over_loopback(
    xero_emulator: XeroEmulator, xero_emulator_server: EmulatorServer
) -> None:
    hold = xero_emulator.hold_responses("PUT", r"/Contacts$")
    out: dict[str, object] = {}
    with authorised_client(xero_emulator, xero_emulator_server.base_url) as client:
        thread = threading.Thread(target=_put_contact, args=(client, "Held", out))
        thread.start()
        call = hold.wait_held(timeout=10)
        assert call is not None
        assert (call.method, call.status, call.idempotency_key) == ("PUT", 200, "k-Held")
        assert b'"Held"' in call.request_body
        # Applied: the contact is in the books, yet the client has no answer.
        assert [c["Name"] for c in xero_emulator.books().contacts] == ["Held"]
        thread.join(timeout=0.3)
        assert thread.is_alive()
        assert not out
        hold.release()
        thread.join(timeout=10)
    response = out["response"]
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200
    assert (
        response.json()["Contacts"][0]["ContactID"]
        == xero_emulator.books().contacts[0]["ContactID"]
    )
    assert [c.held for c in xero_emulator.calls] == [True]


def test_a_hold_takes_only_count_matching_applied_writes(xero_emulator: XeroEmulator) -> None:
    hold = xero_emulator.hold_responses("PUT", r"/Contacts$", count=1, timeout=10)
    with authorised_client(xero_emulator) as client:
        # Not matching: another path, or a read.
        assert client.get(f"{API}/Contacts").status_code == 200
        assert client.put(f"{API}/Invoices", json={"Invoices": []}).status_code in (200, 400)
        # A refused write (400) changed nothing, so it is not held either.
        assert client.put(f"{API}/Contacts", json={"Contacts": [{}]}).status_code == 400
        assert hold.held == []
        assert not hold.exhausted
        out: dict[str, object] = {}
        thread = threading.Thread(target=_put_contact, args=(client, "First", out))
        thread.start()
        assert hold.wait_held(timeout=10) is not None
        assert hold.exhausted
        hold.release()
        thread.join(timeout=10)
        # Exhausted: the next matching write goes straight through.
        second = client.put(f"{API}/Contacts", json={"Name": "Second"})
        assert second.status_code == 200
    assert len(hold.held) == 1


def test_an_idempotent_replay_is_not_held(xero_emulator: XeroEmulator) -> None:
    with authorised_client(xero_emulator) as client:
        first: dict[str, object] = {}
        _put_contact(client, "Once", first)
        hold = xero_emulator.hold_responses("PUT", r"/Contacts$", timeout=10)
        again: dict[str, object] = {}
        _put_contact(client, "Once", again)  # would block for 10 s if it were held
    assert isinstance(again["response"], httpx.Response)
    assert again["response"].status_code == 200
    assert hold.held == []
    assert [c.replayed for c in xero_emulator.calls] == [False, True]
    # The call log names the key each call carried (what a crash test matches retries by).
    assert [c.idempotency_key for c in xero_emulator.calls] == ["k-Once", "k-Once"]


def test_a_forgotten_hold_times_out_by_itself(xero_emulator: XeroEmulator) -> None:
    hold = xero_emulator.hold_responses("PUT", r"/Contacts$", timeout=0.2)
    with authorised_client(xero_emulator) as client:
        out: dict[str, object] = {}
        _put_contact(client, "Forgotten", out)  # returns once the hold's timeout passed
    assert isinstance(out["response"], httpx.Response)
    assert out["response"].status_code == 200
    assert len(hold.held) == 1


def test_release_holds_and_reset_let_everything_go(xero_emulator: XeroEmulator) -> None:
    hold = xero_emulator.hold_responses("PUT", r"/Contacts$", count=5, timeout=30)
    xero_emulator.release_holds()
    assert hold.exhausted
    with authorised_client(xero_emulator) as client:
        assert client.put(f"{API}/Contacts", json={"Name": "Free"}).status_code == 200
    assert hold.held == []
    other = xero_emulator.hold_responses(count=1, timeout=30)
    xero_emulator.reset()
    assert other.exhausted


@pytest.mark.parametrize(("count", "timeout"), [(0, 1.0), (1, 0.0)])
def test_a_hold_needs_a_count_and_a_timeout(
    xero_emulator: XeroEmulator, count: int, timeout: float
) -> None:
    with pytest.raises(ValueError, match="hold"):
        xero_emulator.hold_responses(count=count, timeout=timeout)


def test_a_client_gone_before_its_answer_is_not_reported(
    xero_emulator_server: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # What a killed client leaves behind when its held answer is finally written.
    server = xero_emulator_server._server
    assert server is not None
    for error in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset")):
        try:
            raise error
        except ConnectionError:
            server.handle_error(None, ("127.0.0.1", 1))
    assert capsys.readouterr().err == ""
    try:
        raise RuntimeError("a real bug")
    except RuntimeError:
        server.handle_error(None, ("127.0.0.1", 1))
    assert "a real bug" in capsys.readouterr().err
