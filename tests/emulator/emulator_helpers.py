"""Helpers shared by the emulator tests (a unique module name, unlike ``conftest``)."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

API = "/api.xro/2.0"


def decimal_json(response: httpx.Response) -> Any:
    return json.loads(response.content, parse_float=Decimal)


def messages(body: dict[str, Any]) -> list[str]:
    """Every ValidationErrors message of a 400 body or an element, collected recursively."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for error in node.get("ValidationErrors", []) or []:
                found.append(error["Message"])
            for key, value in node.items():
                if key != "ValidationErrors":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body)
    return found


# ------------------------------------------------------------------ the OpenAPI spec


def spec_dir() -> Path | None:
    override = os.environ.get("AMS_BILLING_XERO_OPENAPI_DIR")
    if override:
        path = Path(override)
        return path if (path / "xero_accounting.yaml").is_file() else None
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "reference" / "xero-openapi"
        if (candidate / "xero_accounting.yaml").is_file():
            return candidate
    return None


@cache
def load_spec(name: str) -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    directory = spec_dir()
    assert directory is not None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (directory / name).open("rb") as handle:
        return dict(yaml.load(handle, Loader=loader))


def fee_invoice_over_http(client: httpx.Client, name: str = "Ada") -> tuple[str, str]:
    """Create a contact and an AUTHORISED 10.00 invoice for it; return both ids."""
    contact = client.put(f"{API}/Contacts", json={"Name": name}).json()["Contacts"][0]
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact["ContactID"]},
        "Status": "AUTHORISED",
        "LineItems": [
            {"Description": "Fee", "Quantity": 1, "UnitAmount": "10", "AccountCode": "200"}
        ],
    }
    invoice = client.put(f"{API}/Invoices", json=body).json()["Invoices"][0]
    return contact["ContactID"], invoice["InvoiceID"]
