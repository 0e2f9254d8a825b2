"""Requests per second of the Xero emulator, in-process and over loopback HTTP.

Run: ``python benchmarks/bench_emulator.py [--seconds 3]``. Rate limits are off so the numbers
measure the emulator, not its 60/minute limit. The mix is a billing integration's: create a
contact, create an AUTHORISED invoice, read it back, fetch its online invoice URL.
"""

from __future__ import annotations

import argparse
import time

import httpx

from ams_billing.contracts.xero_emulator import authorised_client
from ams_billing.emulators.xero import EmulatorConfig, XeroEmulator, serve_emulator

API = "/api.xro/2.0"


def _cycle(client: httpx.Client, n: int) -> int:
    contact = client.put(f"{API}/Contacts", json={"Name": f"Member {n}"}).json()["Contacts"][0]
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact["ContactID"]},
        "Status": "AUTHORISED",
        "LineItems": [
            {"Description": "Fee", "Quantity": 1, "UnitAmount": "50", "AccountCode": "200"}
        ],
    }
    invoice = client.put(f"{API}/Invoices", json=body).json()["Invoices"][0]
    client.get(f"{API}/Invoices/{invoice['InvoiceID']}").raise_for_status()
    client.get(f"{API}/Invoices/{invoice['InvoiceID']}/OnlineInvoice").raise_for_status()
    return 4


def _run(client: httpx.Client, seconds: float) -> float:
    done, n = 0, 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        done += _cycle(client, n)
        n += 1
    return done / (time.perf_counter() - started)


def main() -> None:
    """Print requests/second for both modes."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    emu = XeroEmulator(EmulatorConfig(rate_limits=False))
    with authorised_client(emu) as client:
        print(f"in-process: {_run(client, args.seconds):8.0f} requests/s")
    emu = XeroEmulator(EmulatorConfig(rate_limits=False))
    with serve_emulator(emu) as server, authorised_client(emu, server.base_url) as client:
        print(f"loopback:   {_run(client, args.seconds):8.0f} requests/s")


if __name__ == "__main__":
    main()
