"""Server mode over real loopback HTTP (a handful of end-to-end checks)."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from emulator_helpers import API, fee_invoice_over_http

from ams_billing.contracts.xero_emulator import authorised_client
from ams_billing.emulators.xero import EmulatorServer, FaultRule


def test_full_flow_over_loopback(xero_emulator, xero_emulator_server):
    base = xero_emulator_server.base_url
    assert base.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=base, timeout=10) as client:
        token = client.post(
            "/connect/token",
            data={"grant_type": "client_credentials"},
            auth=(xero_emulator.config.client_id, xero_emulator.config.client_secret),
        ).json()["access_token"]
        client.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
        _, invoice_id = fee_invoice_over_http(client)
        email = client.post(f"{API}/Invoices/{invoice_id}/Email", json={})
        assert email.status_code == 204
        assert email.content == b""
        assert client.get(f"{API}/Contacts/nope").status_code == 404


def test_concurrent_clients(xero_emulator, xero_emulator_server):
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with authorised_client(xero_emulator, xero_emulator_server.base_url) as client:
                for i in range(5):
                    response = client.put(f"{API}/Contacts", json={"Name": f"T{n}-{i}"})
                    assert response.status_code in (200, 429)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    created = len(xero_emulator.books().contacts)
    assert created == xero_emulator.call_summary().by_status.get(200, 0)
    assert created > 0


def test_drop_closes_socket_without_response(xero_emulator, xero_emulator_server):
    xero_emulator.add_fault(FaultRule("drop_after", method="PUT", count=1))
    with (
        authorised_client(xero_emulator, xero_emulator_server.base_url) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        client.put(f"{API}/Contacts", json={"Name": "Ada"})
    assert len(xero_emulator.books().contacts) == 1


def test_control_endpoints(xero_emulator, xero_emulator_server):
    with authorised_client(xero_emulator, xero_emulator_server.base_url) as client:
        _, invoice_id = fee_invoice_over_http(client)
        paid = client.post("/_emulator/payments", json={"InvoiceID": invoice_id, "Amount": "11.50"})
        assert paid.status_code == 200
        books = client.get("/_emulator/books").json()
        assert books["Invoices"][0]["Status"] == "PAID"
        calls = client.get("/_emulator/calls").json()
        assert calls["summary"]["by_endpoint"]["PUT /Invoices"] == 1
        assert client.post("/_emulator/demo-company", json={"IsDemoCompany": True}).json() == {
            "IsDemoCompany": True
        }
        assert client.post("/_emulator/clock/advance", json={"seconds": 1800}).status_code == 200
        assert client.get(f"{API}/Contacts").status_code == 401  # token expired
        assert client.post("/_emulator/reset").status_code == 200
        assert xero_emulator.books().contacts == ()


class _Receiver(BaseHTTPRequestHandler):
    key = ""

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        import base64
        import hashlib
        import hmac

        body = self.rfile.read(int(self.headers["Content-Length"]))
        good = base64.b64encode(hmac.new(self.key.encode(), body, hashlib.sha256).digest()).decode()
        ok = hmac.compare_digest(good, self.headers.get("x-xero-signature", ""))
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_intent_to_receive_and_delivery_over_http(xero_emulator):
    handler = type("Receiver", (_Receiver,), {"key": xero_emulator.config.webhook_key})
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=receiver.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/xero/webhook"
        xero_emulator.set_webhook_target(url)
        assert xero_emulator.intent_to_receive().passed
        with authorised_client(xero_emulator) as client:
            client.put(f"{API}/Contacts", json={"Name": "Ada"})
        [delivery] = xero_emulator.deliver_webhooks()
        assert delivery.ok
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join(timeout=5)


def test_server_refuses_non_loopback(xero_emulator):
    with pytest.raises(ValueError, match="loopback"):
        EmulatorServer(xero_emulator, host="0.0.0.0")


def test_server_stops_and_frees_port(xero_emulator):
    server = EmulatorServer(xero_emulator).start()
    port = int(server.base_url.rsplit(":", 1)[1])
    server.stop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "CONNECT", "BREW"])
def test_unsupported_methods_get_the_plain_text_405_over_http(
    xero_emulator, xero_emulator_server, method
):
    with authorised_client(xero_emulator, xero_emulator_server.base_url) as client:
        delete = client.delete(f"{API}/Invoices")
        response = client.request(method, f"{API}/Invoices")
        other_path = client.request(method, "/connect/token")
        unknown = client.request(method, f"{API}/Nothing")
    assert delete.status_code == 405
    assert response.status_code == 405
    assert response.headers["content-type"] == delete.headers["content-type"]
    assert response.text == delete.text.replace("'DELETE'", f"'{method}'")
    assert response.headers["xero-correlation-id"]
    assert "<html" not in response.text.lower()
    assert other_path.status_code == 405
    assert unknown.status_code == 404
    assert unknown.text == "The resource you're looking for cannot be found"
