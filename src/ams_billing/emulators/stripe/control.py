"""HTTP control surface under ``/_emulator/``; bodies and answers are JSON.

Unauthenticated (the server binds loopback only), not rate-limited, not logged.

- ``GET  /_emulator/calls`` → ``{"summary": {...}, "calls": [...]}``
- ``GET  /_emulator/state`` → ``{"customers", "invoices", "webhook_endpoints", "events"}``
- ``POST /_emulator/reset``
- ``GET  /_emulator/clock`` and ``POST /_emulator/clock/advance`` ``{"seconds": 86400}`` →
  ``{"now": <unix seconds>}``
- ``POST /_emulator/invoices/{id}/pay`` → the invoice, paid out of band (``invoice.paid``)
- ``POST /_emulator/webhooks/deliver`` ``{"timestamp"?: <unix seconds>}`` → one record per
  delivery attempt (signed at ``timestamp``, default the clock's now)
- ``POST /_emulator/webhooks/sign`` ``{"endpoint": "we_…", "payload": "…", "timestamp"?}`` →
  ``{"header": "t=…,v1=…"}``
- ``GET  /_emulator/webhooks`` → ``{"pending": n, "deliveries": [...]}``
- ``POST /_emulator/search/delay`` ``{"seconds": 2}``
- ``POST /_emulator/faults`` (a :class:`~.faults.FaultRule` as JSON),
  ``DELETE /_emulator/faults``
- ``GET  /_emulator/hosted/{invoice id}`` → the hosted invoice page (HTML)
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ams_billing.emulators.common.messages import EmulatorError, EmulatorRequest, EmulatorResponse

from .clock import unix
from .faults import FaultRule

if TYPE_CHECKING:
    from .app import StripeEngine

__all__ = ["handle_control"]


def _json(status: int, body: Any) -> EmulatorResponse:
    return EmulatorResponse(
        status=status,
        headers=(("Content-Type", "application/json"),),
        body=json.dumps(body, default=str).encode(),
    )


def _body(request: EmulatorRequest) -> Mapping[str, Any]:
    data = json.loads(request.body or b"{}")
    if not isinstance(data, Mapping):
        raise ValueError("the body must be a JSON object")
    return data


def _hosted(engine: StripeEngine, invoice_id: str) -> EmulatorResponse:
    found = [i for i in engine.state()["invoices"] if i["id"] == invoice_id]
    if not found or found[0]["hosted_invoice_url"] is None:
        return _json(404, {"error": "no such finalized invoice"})
    invoice = found[0]
    rows = "".join(
        f"<tr><td>{html.escape(str(line['description'] or ''))}</td><td>{line['amount']}</td></tr>"
        for line in invoice["lines"]["data"]
    )
    page = (
        "<!doctype html><meta charset=utf-8><title>Invoice "
        f"{html.escape(str(invoice['number']))}</title>"
        f"<h1>Invoice {html.escape(str(invoice['number']))}</h1>"
        f"<p>Status: {html.escape(invoice['status'])}. Amount due: {invoice['amount_due']} "
        f"{html.escape(invoice['currency'])} (minor units). Billed to "
        f"{html.escape(str(invoice['customer_name'] or invoice['customer']))}.</p>"
        f"<table>{rows}</table>"
    )
    return EmulatorResponse(
        status=200,
        headers=(("Content-Type", "text/html; charset=utf-8"),),
        body=page.encode(),
    )


def handle_control(engine: StripeEngine, request: EmulatorRequest) -> EmulatorResponse:
    """Answer one ``/_emulator/...`` request."""
    method = request.method.upper()
    path = request.path.rstrip("/")
    parts = path.split("/")[2:]
    try:
        if method == "GET":
            if path == "/_emulator/calls":
                summary = attrs.asdict(engine.call_summary())
                summary["by_status"] = {str(k): v for k, v in summary["by_status"].items()}
                calls = [attrs.asdict(c) for c in engine.calls]
                return _json(200, {"summary": summary, "calls": calls})
            if path == "/_emulator/state":
                return _json(200, engine.state())
            if path == "/_emulator/clock":
                return _json(200, {"now": unix(engine.clock)})
            if path == "/_emulator/webhooks":
                deliveries = [d.as_json() for d in engine.deliveries]
                return _json(
                    200, {"pending": engine.pending_deliveries(), "deliveries": deliveries}
                )
            if len(parts) == 2 and parts[0] == "hosted":
                return _hosted(engine, parts[1])
        if method == "DELETE" and path == "/_emulator/faults":
            engine.clear_faults()
            return _json(200, {"faults": 0})
        if method == "POST":
            data = _body(request)
            if path == "/_emulator/reset":
                engine.reset()
                return _json(200, {"reset": True})
            if path == "/_emulator/clock/advance":
                engine.advance_clock(float(data.get("seconds", 0)))
                return _json(200, {"now": unix(engine.clock)})
            if len(parts) == 3 and parts[0] == "invoices" and parts[2] == "pay":
                return _json(200, engine.pay_invoice(parts[1]))
            if path == "/_emulator/webhooks/deliver":
                stamp = data.get("timestamp")
                attempts = engine.deliver_webhooks(at=None if stamp is None else int(stamp))
                return _json(200, [a.as_json() for a in attempts])
            if path == "/_emulator/webhooks/sign":
                stamp = data.get("timestamp")
                header = engine.sign(
                    str(data["payload"]).encode(),
                    str(data["endpoint"]),
                    at=None if stamp is None else int(stamp),
                )
                return _json(200, {"header": header})
            if path == "/_emulator/search/delay":
                engine.set_search_indexing_delay(float(data["seconds"]))
                return _json(200, {"seconds": engine.search_indexing_delay})
            if path == "/_emulator/faults":
                engine.add_fault(FaultRule(**dict(data)))
                return _json(200, {"faults": len(engine.fault_rules)})
    except (EmulatorError, ValueError, KeyError, TypeError) as exc:
        return _json(400, {"error": f"{type(exc).__name__}: {exc}"})
    return _json(404, {"error": "unknown control endpoint"})
