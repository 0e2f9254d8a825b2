"""Benchmark 1: bill N members (contact + invoice + email) within Xero's limits, like for like.

Run: ``python benchmarks/bench_billing.py [--members 300] [--scale 10] [--also-scale 60]``.

Every run is against its own fresh Xero emulator served on 127.0.0.1, with Xero's limits on
(5 concurrent, 60/minute, 5,000/day) and its clock ``--scale`` times faster than real time.
Calls are counted the same way for every client: from the emulator's call log
(``emulator.calls``), 429s and 401s included. Wall times are in Xero seconds (real seconds x
scale), next to the least time the limits allow for the tenant calls made. The scale is chosen
so that the clients' own CPU is not what limits them: at scale 10 a Xero minute is 6 real
seconds, 100 ms for each of its 60 calls; the result gives each run's process CPU time beside
its real time, so that this can be checked.

Four runs, two shapes of the same job, each done by both clients:

- **one at a time** -- ams-billing: ``create_invoice`` (finds or creates the contact) then
  ``send_invoice``, member by member. xero-python, the public AMS's sequence
  (``MembershipBillingService()`` per member, whose ``get_billing_service()`` builds a new
  ``XeroProvider``, hence a new client-credentials token; then
  ``update_user_billing_details`` (``PUT /Contacts``, one contact), ``create_invoice``
  (``PUT /Invoices``, one invoice) and ``email_invoice`` (``POST /Invoices/{id}/Email``), all on
  that one service): 1 token + 3 tenant calls a member.
- **in bulk** -- ams-billing: ``create_invoices`` (contacts and invoices 50 a request) then
  ``send_invoice`` each. xero-python: one service (one token), ``create_contacts`` and
  ``create_invoices`` with lists of 50 (``summarize_errors=False``), then ``email_invoice``
  each. (The AMS has no such path: see BENCHMARKS.md.)

xero-python: urllib3's hidden default ``Retry(3)`` honours ``Retry-After`` on the PUTs; its
sleep is scaled to the emulator's clock here, so that retries wait Xero time, not real time. A
429 that surfaces (on the POSTs, which urllib3 does not retry) is what the AMS's
``handle_rate_limit`` turns into ``XeroRateLimitError``; the harness plays a patient caller: it
sleeps the ``Retry-After`` and repeats the operation, so both sides finish the same job.

- **pyxero** 0.9.5: tried with a token dict; it writes XML, which the emulator does not accept.
- ``--workers W``: W threads sharing one provider bill ``--worker-members`` members each.
"""

from __future__ import annotations

import argparse
import os
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
from ams_billing.emulators.xero import XeroEmulator


def _summary(
    emulator: XeroEmulator, members: int, seconds: float, cpu: float, scale: float
) -> dict[str, Any]:
    calls = emulator.calls
    tenant_calls = sum(1 for c in calls if c.tenant_id is not None and c.status != 429)
    xero_seconds = seconds * scale
    minimum = minimum_seconds(tenant_calls)
    return {
        "members": members,
        "scale": scale,
        "calls": len(calls),
        "calls_per_member": len(calls) / members,
        "calls_per_member_without_429": sum(1 for c in calls if c.status != 429) / members,
        "tenant_calls": tenant_calls,
        "token_calls": sum(1 for c in calls if c.endpoint == "POST /connect/token"),
        "by_endpoint": dict(Counter(c.endpoint for c in calls)),
        "status_429": limit_hits(emulator),
        "status_401": sum(1 for c in calls if c.status == 401),
        "real_seconds": seconds,
        "process_cpu_seconds": cpu,
        "cpu_share_of_real": cpu / seconds if seconds else None,
        "real_budget_per_call_seconds": 1 / scale,
        "cpu_per_call_seconds": cpu / len(calls) if calls else None,
        "xero_seconds": xero_seconds,
        "minimum_xero_seconds": minimum,
        "ratio_to_minimum": xero_seconds / minimum if minimum else None,
        "emails_sent": sum(
            1 for c in calls if c.endpoint.endswith("/Email") and c.status in (200, 204)
        ),
        "load_average_after": list(os.getloadavg()),
    }


class _Clock:
    """Real and process-CPU seconds since it was made (the emulator runs in this process)."""

    def __init__(self) -> None:
        self.load_before = list(os.getloadavg())
        self._real, self._cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self._real, time.process_time() - self._cpu


# -- ams-billing ---------------------------------------------------------------------------


def run_ours(members: int, scale: float) -> dict[str, Any]:
    """Bill ``members`` in bulk through ``BillingService``: ``create_invoices``, then emails."""
    emulator = scaled_emulator(scale)
    with served(emulator) as base_url:
        service = our_service(emulator, base_url, scale)
        clock = _Clock()
        results = service.create_invoices(batch_items(member_requests(members)))
        sent = sum(service.send_invoice(r.unwrap()).sent for r in results)
        seconds, cpu = clock.read()
        created = sum(r.outcome is BatchOutcome.CREATED for r in results)
        summary = _summary(emulator, members, seconds, cpu, scale)
        summary.update(
            invoices_created=created, emails_reported_sent=sent, load_before=clock.load_before
        )
    return summary


def run_ours_single(members: int, scale: float) -> dict[str, Any]:
    """Bill ``members`` one at a time: ``create_invoice`` then ``send_invoice`` for each."""
    emulator = scaled_emulator(scale)
    with served(emulator) as base_url:
        service = our_service(emulator, base_url, scale)
        clock = _Clock()
        sent = 0
        for request in member_requests(members):
            invoice = service.create_invoice(
                request, idempotency_key=f"invoice:{request.reference}"
            )
            sent += service.send_invoice(invoice).sent
        seconds, cpu = clock.read()
        summary = _summary(emulator, members, seconds, cpu, scale)
        summary.update(emails_reported_sent=sent, load_before=clock.load_before)
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
    """The public AMS's ``XeroProvider`` reduced to its calls (no Django, no database)."""

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
        from xero_python.accounting import AccountingApi, Invoices  # noqa: PLC0415

        # The AMS's create_invoice calls _get_authentication_token(), a no-op here: the
        # service already holds the token update_user_billing_details fetched.
        self.authenticate()
        response = AccountingApi(self.api_client).create_invoices(
            self.tenant, Invoices(invoices=[_xero_python_invoice(contact_id, number)])
        )
        return str(response.invoices[0].invoice_id)

    def create_contacts(self, numbers: list[int]) -> list[str]:
        """``create_contacts`` with a list (one request), as the AMS could but does not."""
        from xero_python.accounting import AccountingApi, Contact, Contacts  # noqa: PLC0415

        self.authenticate()
        contacts = [
            Contact(
                name=f"Member {number} ({number})",
                account_number=str(number),
                email_address=f"m{number}@example.org",
            )
            for number in numbers
        ]
        response = AccountingApi(self.api_client).create_contacts(
            self.tenant, Contacts(contacts=contacts), summarize_errors=False
        )
        return [str(contact.contact_id) for contact in response.contacts]

    def create_invoices(self, pairs: list[tuple[str, int]]) -> list[str]:
        """``create_invoices`` with a list (one request), as the AMS could but does not."""
        from xero_python.accounting import AccountingApi, Invoices  # noqa: PLC0415

        self.authenticate()
        invoices = [_xero_python_invoice(contact_id, number) for contact_id, number in pairs]
        response = AccountingApi(self.api_client).create_invoices(
            self.tenant, Invoices(invoices=invoices), summarize_errors=False
        )
        return [str(invoice.invoice_id) for invoice in response.invoices]

    def email_invoice(self, invoice_id: str) -> None:
        from xero_python.accounting import AccountingApi, RequestEmpty  # noqa: PLC0415

        self.authenticate()
        AccountingApi(self.api_client).email_invoice(self.tenant, invoice_id, RequestEmpty())


def _xero_python_invoice(contact_id: str, number: int) -> Any:
    """The AMS's invoice: ACCREC, AUTHORISED, one line, NZD, exclusive amounts."""
    from datetime import date  # noqa: PLC0415
    from decimal import Decimal  # noqa: PLC0415

    from xero_python.accounting import (  # noqa: PLC0415
        Contact,
        CurrencyCode,
        Invoice,
        LineAmountTypes,
        LineItem,
    )

    return Invoice(
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
    """Bill ``members`` one at a time, the public AMS's way, with xero-python."""
    emulator = scaled_emulator(scale)
    surfaced: list[float] = []
    with served(emulator) as base_url:
        _patch_xero_python(base_url, scale)
        clock = _Clock()
        for number in range(members):
            # MembershipBillingService() per member: get_billing_service() builds a new
            # XeroProvider, which fetches its own token; every call below shares it.
            service = _AmsLikeService(emulator)
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
            _patiently(lambda: service.email_invoice(invoice_id), scale, surfaced)  # noqa: B023
        seconds, cpu = clock.read()
        summary = _summary(emulator, members, seconds, cpu, scale)
    summary.update(
        rate_limit_exceptions_surfaced=len(surfaced),
        hidden_urllib3_retries=_hidden_retries(emulator),
        load_before=clock.load_before,
    )
    return summary


def run_xero_python_bulk(members: int, scale: float, batch: int = 50) -> dict[str, Any]:
    """Bill ``members`` with xero-python in bulk: one token, lists of 50, then the emails."""
    emulator = scaled_emulator(scale)
    surfaced: list[float] = []
    with served(emulator) as base_url:
        _patch_xero_python(base_url, scale)
        clock = _Clock()
        service = _AmsLikeService(emulator)
        numbers = list(range(members))
        invoice_ids: list[str] = []
        for start in range(0, members, batch):
            chunk = numbers[start : start + batch]
            contact_ids = _patiently(
                lambda: service.create_contacts(chunk),  # noqa: B023
                scale,
                surfaced,
            )
            pairs = list(zip(contact_ids, chunk, strict=True))
            invoice_ids += _patiently(
                lambda: service.create_invoices(pairs),  # noqa: B023
                scale,
                surfaced,
            )
        for invoice_id in invoice_ids:
            _patiently(lambda: service.email_invoice(invoice_id), scale, surfaced)  # noqa: B023
        seconds, cpu = clock.read()
        summary = _summary(emulator, members, seconds, cpu, scale)
    summary.update(
        invoices_created=len(invoice_ids),
        rate_limit_exceptions_surfaced=len(surfaced),
        hidden_urllib3_retries=_hidden_retries(emulator),
        load_before=clock.load_before,
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
        clock = _Clock()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        seconds, cpu = clock.read()
        summary = _summary(emulator, workers * members, seconds, cpu, scale)
    summary.update(
        workers=workers,
        members_per_worker=members,
        failures=failures[:3],
        load_before=clock.load_before,
    )
    return summary


RUNS = {
    "ours_single": run_ours_single,
    "xero_python_single": run_xero_python,
    "ours_bulk": run_ours,
    "xero_python_bulk": run_xero_python_bulk,
}


def main() -> None:
    """Run the comparison and write ``results/billing.json``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument(
        "--also-scale",
        type=float,
        nargs="*",
        default=[60.0],
        help="run the one-at-a-time pair again at these scales (429s depend on it)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the four runs")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-members", type=int, default=60)
    args = parser.parse_args()

    started = time.perf_counter()
    load_before = list(os.getloadavg())
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in RUNS}
    for _ in range(args.repeat):
        for name, run in RUNS.items():
            rounds[name].append(run(args.members, args.scale))
            print(f"{name} x{args.scale:g}: {_line(rounds[name][-1])}", flush=True)
    other_scales: dict[str, dict[str, Any]] = {}
    for scale in args.also_scale:
        pair = {
            "ours_single": run_ours_single(args.members, scale),
            "xero_python_single": run_xero_python(args.members, scale),
        }
        for name, summary in pair.items():
            print(f"{name} x{scale:g}: {_line(summary)}", flush=True)
        other_scales[f"{scale:g}"] = pair
    pyxero = run_pyxero(args.scale)
    print(f"pyxero: {pyxero['can_do_the_job']} {pyxero.get('attempts')}")
    workers = run_workers(args.workers, args.worker_members, args.scale)
    print(f"{args.workers} workers x{args.scale:g}: {_line(workers)}")
    write_result(
        "billing",
        {
            "scale": args.scale,
            "members": args.members,
            "minimum_formula": "T_min(n) = (ceil(n/60) - 1) * 60 Xero seconds, n = tenant calls",
            "load_average_before": load_before,
            "load_average_after": list(os.getloadavg()),
            "bench_real_seconds": time.perf_counter() - started,
            "runs": {name: {"runs": runs, **_medians(runs)} for name, runs in rounds.items()},
            "other_scales": other_scales,
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
    text = (
        f"{summary['calls']} calls ({summary['calls_per_member']:.3f}/member, "
        f"{summary['calls_per_member_without_429']:.3f} without 429s, "
        f"{summary['token_calls']} tokens), {summary['status_429']} x 429, "
        f"{summary['status_401']} x 401, {summary['real_seconds']:.1f} s real "
        f"(CPU {summary['process_cpu_seconds']:.1f} s) = "
        f"{summary['xero_seconds'] / 60:.2f} Xero min"
    )
    if ratio:
        text += f" (min {summary['minimum_xero_seconds'] / 60:.0f}; x{ratio:.3f})"
    return text


if __name__ == "__main__":
    main()
