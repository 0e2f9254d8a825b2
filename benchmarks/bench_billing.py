"""Benchmark 1: bill N members (contact + invoice + email) within Xero's limits, side by side.

Run: ``python benchmarks/bench_billing.py [--members 1000] [--scale 60] [--repeat 3]``.

Every client runs against its own fresh Xero emulator served on 127.0.0.1, with Xero's limits
on (5 concurrent, 60/minute, 5,000/day) and its clock ``--scale`` times faster than real time;
wall times are reported in Xero seconds (real seconds x scale) next to the minimum the limits
allow for the tenant calls made.

- **ams-billing**: ``BillingService.create_invoices`` (contacts and invoices 50 per request,
  with idempotency keys) then ``send_invoice`` per member; the provider's pacer runs on the
  same scaled clock (``rate_limit_time_scale``).
- **xero-python** (the SDK the public AMS uses), driven with the AMS's call sequence
  (``XeroBillingService`` at digital-technologies-teachers-aotearoa/ams 015916f): a new service,
  hence a new client-credentials token, per business operation: ``update_user_billing_details``
  (token, ``PUT /Contacts`` of one contact) with ``create_invoice`` (``PUT /Invoices`` of one
  invoice) on the same service (its ``create_invoice`` does not fetch a token of its own), then
  ``email_invoice`` on a new one (token, ``POST /Invoices/{id}/Email``).
  urllib3's hidden default ``Retry(3)`` honours ``Retry-After`` on the PUTs; its sleep is scaled
  to the emulator's clock here, so that retries wait Xero time, not real time. A 429 that
  surfaces (always on the POST, which urllib3 does not retry) is what AMS's ``handle_rate_limit``
  turns into ``XeroRateLimitError``; the harness then plays a patient caller: it sleeps the
  ``Retry-After`` (read correctly, which AMS's own parser cannot) and repeats the operation.
- **pyxero** 0.9.5: tried with a token dict; it writes XML, which the emulator does not accept.
- ``--workers W``: W threads sharing one provider bill ``--worker-members`` members each.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import threading
import time
import traceback
from collections import Counter
from typing import Any

from _common import (
    batch_items,
    limit_hits,
    member_requests,
    minimum_seconds,
    our_service,
    scaled_emulator,
    served,
    spread,
    write_result,
)

from ams_billing import BatchOutcome
from ams_billing.providers.xero.emulator import XeroEmulator


def _summary(emulator: XeroEmulator, members: int, seconds: float, scale: float) -> dict[str, Any]:
    calls = emulator.calls
    tenant_calls = sum(1 for c in calls if c.tenant_id is not None and c.status != 429)
    xero_seconds = seconds * scale
    minimum = minimum_seconds(tenant_calls)
    return {
        "members": members,
        "calls": len(calls),
        "calls_per_member": len(calls) / members,
        "tenant_calls": tenant_calls,
        "by_endpoint": dict(Counter(c.endpoint for c in calls)),
        "status_429": limit_hits(emulator),
        "real_seconds": seconds,
        "xero_seconds": xero_seconds,
        "minimum_xero_seconds": minimum,
        "ratio_to_minimum": xero_seconds / minimum if minimum else None,
        "emails_sent": sum(1 for c in calls if c.endpoint.endswith("/Email") and c.status == 204)
        or sum(1 for c in calls if c.endpoint.endswith("/Email") and c.status == 200),
    }


# -- ams-billing ---------------------------------------------------------------------------


def run_ours(members: int, scale: float) -> dict[str, Any]:
    """Bill ``members`` through ``BillingService`` against a fresh emulator; return the counts."""
    emulator = scaled_emulator(scale)
    with served(emulator) as base_url:
        service = our_service(emulator, base_url, scale)
        started = time.perf_counter()
        results = service.create_invoices(batch_items(member_requests(members)))
        sent = sum(service.send_invoice(r.unwrap()).sent for r in results)
        seconds = time.perf_counter() - started
        created = sum(r.outcome is BatchOutcome.CREATED for r in results)
        summary = _summary(emulator, members, seconds, scale)
        summary.update(invoices_created=created, emails_reported_sent=sent)
    return summary


# -- xero-python, the public AMS's call sequence --------------------------------------------


def _patch_xero_python(base_url: str, scale: float) -> None:
    import urllib3.util.retry  # noqa: PLC0415
    from xero_python.accounting import AccountingApi  # noqa: PLC0415
    from xero_python.api_client.oauth2 import TokenApi  # noqa: PLC0415
    from xero_python.identity import IdentityApi  # noqa: PLC0415

    # peers.md §2.2: the three class attributes, plain http.
    AccountingApi.base_url = f"{base_url}/api.xro/2.0"
    IdentityApi.base_url = base_url
    TokenApi.client_credentials_token_url = f"{base_url}/connect/token"

    def sleep_for_retry(self: Any, response: Any) -> bool:  # urllib3's, on the scaled clock
        retry_after = self.get_retry_after(response)
        if retry_after:
            time.sleep(retry_after / scale)
            return True
        return False

    urllib3.util.retry.Retry.sleep_for_retry = sleep_for_retry  # type: ignore[method-assign]


class _AmsLikeService:
    """The public AMS's ``XeroBillingService`` reduced to its calls (no Django, no database)."""

    def __init__(self, emulator: XeroEmulator) -> None:
        from xero_python.api_client import ApiClient  # noqa: PLC0415
        from xero_python.api_client.configuration import Configuration  # noqa: PLC0415
        from xero_python.api_client.oauth2 import OAuth2Token  # noqa: PLC0415

        config = emulator.config
        self.tenant = config.tenant_id
        self.token: Any = None
        self.api_client = ApiClient(
            Configuration(
                oauth2_token=OAuth2Token(
                    client_id=config.client_id, client_secret=config.client_secret
                )
            ),
            pool_threads=1,
            oauth2_token_getter=lambda: self.token,
            oauth2_token_saver=self._save,
        )

    def _save(self, token: Any) -> None:
        self.token = token

    def authenticate(self) -> None:
        if not self.token:
            self.api_client.get_client_credentials_token()

    def create_contact(self, number: int) -> str:
        from xero_python.accounting import AccountingApi, Contact, Contacts  # noqa: PLC0415

        self.authenticate()
        contact = Contact(
            name=f"Member {number} ({number})",
            account_number=str(number),
            email_address=f"m{number}@example.org",
        )
        response = AccountingApi(self.api_client).create_contacts(
            self.tenant, Contacts(contacts=[contact])
        )
        return str(response.contacts[0].contact_id)

    def create_invoice(self, contact_id: str, number: int) -> str:
        from datetime import date  # noqa: PLC0415
        from decimal import Decimal  # noqa: PLC0415

        from xero_python.accounting import (  # noqa: PLC0415
            AccountingApi,
            Contact,
            CurrencyCode,
            Invoice,
            Invoices,
            LineAmountTypes,
            LineItem,
        )

        invoice = Invoice(
            type="ACCREC",
            contact=Contact(contact_id=contact_id),
            line_items=[
                LineItem(
                    description="Annual membership",
                    unit_amount=Decimal("10.10"),
                    quantity=Decimal(1),
                    account_code="200",
                )
            ],
            date=date(2026, 7, 1),
            due_date=date(2026, 7, 31),
            reference=str(number),
            currency_code=CurrencyCode.NZD,
            status="AUTHORISED",
            line_amount_types=LineAmountTypes.EXCLUSIVE,
        )
        response = AccountingApi(self.api_client).create_invoices(
            self.tenant, Invoices(invoices=[invoice])
        )
        return str(response.invoices[0].invoice_id)

    def email_invoice(self, invoice_id: str) -> None:
        from xero_python.accounting import AccountingApi, RequestEmpty  # noqa: PLC0415

        self.authenticate()
        AccountingApi(self.api_client).email_invoice(self.tenant, invoice_id, RequestEmpty())


def _patiently(operation: Any, scale: float, surfaced: list[float]) -> Any:
    """Run ``operation``; on a surfaced 429 sleep its Retry-After (scaled) and run it again."""
    from xero_python.exceptions import RateLimitException  # noqa: PLC0415

    for _ in range(20):
        try:
            return operation()
        except RateLimitException as error:
            retry_after = float(error.headers.get("Retry-After") or 1) if error.headers else 1.0
            surfaced.append(retry_after)
            time.sleep(retry_after / scale)
    raise RuntimeError("still rate limited after 20 waits")


def run_xero_python(members: int, scale: float) -> dict[str, Any]:
    """Bill ``members`` the public AMS's way with xero-python against a fresh emulator."""
    emulator = scaled_emulator(scale)
    surfaced: list[float] = []
    with served(emulator) as base_url:
        _patch_xero_python(base_url, scale)
        started = time.perf_counter()
        for number in range(members):
            service = _AmsLikeService(emulator)  # get_billing_service(): a new one per call
            contact_id = _patiently(
                lambda: service.create_contact(number),  # noqa: B023
                scale,
                surfaced,
            )
            invoice_id = _patiently(
                lambda: service.create_invoice(contact_id, number),  # noqa: B023
                scale,
                surfaced,
            )
            mailer = _AmsLikeService(emulator)
            _patiently(lambda: mailer.email_invoice(invoice_id), scale, surfaced)  # noqa: B023
        seconds = time.perf_counter() - started
        summary = _summary(emulator, members, seconds, scale)
    sends_per_put = _hidden_retries(emulator)
    summary.update(
        rate_limit_exceptions_surfaced=len(surfaced),
        hidden_urllib3_retries=sends_per_put,
    )
    return summary


def _hidden_retries(emulator: XeroEmulator) -> int:
    """PUTs answered 429 that urllib3 re-sent by itself (every 429 on a PUT is re-sent)."""
    return sum(1 for c in emulator.calls if c.status == 429 and c.method == "PUT")


# -- pyxero --------------------------------------------------------------------------------


def run_pyxero(scale: float) -> dict[str, Any]:
    """Try one member with pyxero 0.9.5 (token dict; XML writes); report what happened."""
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    try:
        from xero.auth import OAuth2Credentials  # noqa: PLC0415

        from xero import Xero  # noqa: PLC0415
    except ImportError as error:
        return {"can_do_the_job": False, "why": f"pyxero is not installed ({error})"}
    emulator = scaled_emulator(scale)
    attempts: list[dict[str, Any]] = []
    with served(emulator) as base_url:
        token = {
            "access_token": emulator.issue_token(),
            "token_type": "Bearer",
            "expires_in": 1800,
            "expires_at": time.time() + 1800,
        }
        credentials = OAuth2Credentials(
            emulator.config.client_id,
            emulator.config.client_secret,
            token=token,
            tenant_id=emulator.config.tenant_id,
        )
        credentials.base_url = base_url
        xero = Xero(credentials)
        steps: list[tuple[str, Any]] = [
            ("read contacts (JSON GET)", lambda: xero.contacts.filter(page=1)),
            (
                "create contact (XML PUT)",
                lambda: xero.contacts.put(
                    {"Name": "Member 0 (0)", "AccountNumber": "0", "EmailAddress": "m0@example.org"}
                ),
            ),
        ]
        for name, step in steps:
            try:
                step()
                attempts.append({"step": name, "ok": True})
            except Exception as error:  # report whatever pyxero raised
                message = f"{type(error).__name__}: {error}".splitlines()[0][:300]
                attempts.append({"step": name, "ok": False, "error": message})
        statuses = [
            {"endpoint": c.endpoint, "status": c.status} for c in emulator.calls if c.tenant_id
        ]
    can = all(a["ok"] for a in attempts)
    return {
        "can_do_the_job": can,
        "why": None
        if can
        else "pyxero 0.9.5 writes XML request bodies; the emulator accepts JSON only "
        "(and pyxero 0.9.5 has no client-credentials grant: a token dict was passed)",
        "attempts": attempts,
        "emulator_saw": statuses,
    }


# -- several workers ------------------------------------------------------------------------


def run_workers(workers: int, members: int, scale: float) -> dict[str, Any]:
    """``workers`` threads share one provider (one memory budget), each billing ``members``."""
    emulator = scaled_emulator(scale)
    failures: list[str] = []
    with served(emulator) as base_url:
        service = our_service(emulator, base_url, scale)

        def work(index: int) -> None:
            try:
                requests = member_requests(members, prefix=f"w{index}")
                for result in service.create_invoices(batch_items(requests)):
                    service.send_invoice(result.unwrap())
            except Exception:  # reported in the result
                failures.append(traceback.format_exc(limit=3))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        seconds = time.perf_counter() - started
        summary = _summary(emulator, workers * members, seconds, scale)
    summary.update(workers=workers, members_per_worker=members, failures=failures[:3])
    return summary


def main() -> None:
    """Run the comparison and write ``results/billing.json``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours")
    parser.add_argument("--repeat-peer", type=int, default=1, help="runs of xero-python")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-members", type=int, default=60)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()

    ours = []
    for run in range(args.repeat):
        ours.append(run_ours(args.members, args.scale))
        print(f"ours run {run + 1}: {_line(ours[-1])}")
    peer: list[dict[str, Any]] = []
    if not args.skip_peer:
        for run in range(args.repeat_peer):
            peer.append(run_xero_python(args.members, args.scale))
            print(f"xero-python run {run + 1}: {_line(peer[-1])}")
    pyxero = run_pyxero(args.scale)
    print(f"pyxero: {pyxero['can_do_the_job']} {pyxero.get('attempts')}")
    workers = run_workers(args.workers, args.worker_members, args.scale)
    print(f"{args.workers} workers: {_line(workers)}")
    write_result(
        "billing",
        {
            "scale": args.scale,
            "members": args.members,
            "minimum_formula": "T_min(n) = (ceil(n/60) - 1) * 60 Xero seconds, n = tenant calls",
            "ours": {"runs": ours, **_medians(ours)},
            "xero_python": {"runs": peer, **_medians(peer)} if peer else None,
            "pyxero": pyxero,
            "workers": workers,
        },
    )


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("calls_per_member", "status_429", "xero_seconds", "real_seconds", "ratio_to_minimum")
    return {
        f"{key}_stats": spread([float(r[key]) for r in runs])
        for key in keys
        if runs and all(r.get(key) is not None for r in runs)
    }


def _line(summary: dict[str, Any]) -> str:
    ratio = summary["ratio_to_minimum"]
    return (
        f"{summary['calls']} calls ({summary['calls_per_member']:.3f}/member), "
        f"{summary['status_429']} x 429, {summary['real_seconds']:.1f} s real = "
        f"{summary['xero_seconds'] / 60:.2f} Xero min "
        f"(min {summary['minimum_xero_seconds'] / 60:.0f};"
        f" x{ratio:.3f})"
        if ratio
        else f"{summary['calls']} calls"
    )


if __name__ == "__main__":
    _ = math, statistics
    main()
