"""HTTP control surface under ``/_emulator/`` for server mode (the CLI and other processes).

Unauthenticated (the server binds loopback only) and not rate-limited or logged:

- ``GET /_emulator/calls`` → ``{"summary": {...}, "calls": [...]}``
- ``GET /_emulator/books`` → ``{"Contacts", "Invoices", "Payments"}``
- ``POST /_emulator/reset``
- ``POST /_emulator/payments`` ``{"InvoiceID", "Amount", "AccountCode"?, "Date"?, "Reference"?}``
- ``POST /_emulator/demo-company`` ``{"IsDemoCompany": true}``
- ``POST /_emulator/clock/advance`` ``{"seconds": 1800}``
- ``POST /_emulator/webhooks/target`` ``{"url": "http://127.0.0.1:8000/xero/webhook"}``
- ``POST /_emulator/webhooks/deliver`` → one summary per delivery
- ``POST /_emulator/webhooks/intent-to-receive`` ``{"url"?}`` → the report
- ``POST /_emulator/faults`` (a :class:`FaultRule` as JSON) and ``DELETE /_emulator/faults``
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ams_billing.emulators.common.messages import EmulatorError, EmulatorRequest, EmulatorResponse

from . import wire
from .faults import FaultRule

if TYPE_CHECKING:
    from .app import XeroEmulator

__all__ = ["handle_control"]


def _json(status: int, body: Any) -> EmulatorResponse:
    return EmulatorResponse(
        status=status,
        headers=(("Content-Type", "application/json; charset=utf-8"),),
        body=wire.dumps(body),
    )


def _body(request: EmulatorRequest) -> Mapping[str, Any]:
    data = wire.loads(request.body or b"{}")
    if not isinstance(data, Mapping):
        raise ValueError("the body must be a JSON object")
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def handle_control(emulator: XeroEmulator, request: EmulatorRequest) -> EmulatorResponse:
    """Answer one ``/_emulator/...`` request."""
    route = (request.method.upper(), request.path.rstrip("/"))
    try:
        if route == ("GET", "/_emulator/calls"):
            summary = attrs.asdict(emulator.call_summary())
            summary["by_status"] = {str(k): v for k, v in summary["by_status"].items()}
            calls = [_plain(attrs.asdict(c)) for c in emulator.calls]
            return _json(200, {"summary": summary, "calls": calls})
        if route == ("GET", "/_emulator/books"):
            return _json(200, emulator.books().as_mapping())
        if route == ("POST", "/_emulator/reset"):
            emulator.reset()
            return _json(200, {"reset": True})
        data = _body(request)
        if route == ("POST", "/_emulator/payments"):
            payment_id = emulator.record_payment(
                str(data["InvoiceID"]),
                wire.to_decimal(data["Amount"]),
                account_code=data.get("AccountCode"),
                on=wire.parse_xero_date(data["Date"]) if data.get("Date") else None,
                reference=data.get("Reference"),
            )
            return _json(200, {"PaymentID": payment_id})
        if route == ("POST", "/_emulator/demo-company"):
            emulator.set_demo_company(bool(data.get("IsDemoCompany", True)))
            return _json(200, {"IsDemoCompany": emulator.is_demo_company})
        if route == ("POST", "/_emulator/clock/advance"):
            emulator.clock.advance(float(wire.to_decimal(data.get("seconds", 0))))
            return _json(200, {"now": emulator.clock.now().isoformat()})
        if route == ("POST", "/_emulator/webhooks/target"):
            emulator.set_webhook_target(data.get("url"))
            return _json(200, {"url": data.get("url")})
        if route == ("POST", "/_emulator/webhooks/deliver"):
            results = emulator.deliver_webhooks(force=bool(data.get("force", False)))
            return _json(
                200,
                [
                    {"status": r.status, "error": r.error, "events": len(r.payload["events"])}
                    for r in results
                ],
            )
        if route == ("POST", "/_emulator/webhooks/intent-to-receive"):
            report = emulator.intent_to_receive(data.get("url"))
            checks = [_plain(attrs.asdict(c)) | {"passed": c.passed} for c in report.checks]
            return _json(200, {"url": report.url, "passed": report.passed, "checks": checks})
        if route == ("POST", "/_emulator/faults"):
            fields = {k: v for k, v in data.items() if k != "hold"}
            for name in ("count", "skip", "retry_after"):
                if fields.get(name) is not None:
                    fields[name] = int(fields[name])
            for name in ("probability", "delay"):
                if fields.get(name) is not None:
                    fields[name] = float(fields[name])
            emulator.add_fault(FaultRule(**fields))
            return _json(200, {"faults": len(emulator.fault_rules)})
        if route == ("DELETE", "/_emulator/faults"):
            emulator.clear_faults()
            return _json(200, {"faults": 0})
    except (EmulatorError, ValueError, KeyError, TypeError) as exc:
        return _json(400, {"error": f"{type(exc).__name__}: {exc}"})
    return _json(404, {"error": "unknown control endpoint"})
