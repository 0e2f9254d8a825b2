"""README's ten-line API example, run as written against the Xero emulator over loopback.

With the setup guide's settings (``XERO_AMOUNT_TYPE=INCLUSIVE``), the example's request names no
amount type, so it must be billed inclusive of tax, as the operator configured: 120.00 in
total, of which 15.65 is New Zealand's 15% GST.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from ams_billing.emulators.xero import (
    EmulatorClock,
    EmulatorConfig,
    XeroEmulator,
    provider_environment,
    serve_emulator,
)

README = Path(__file__).resolve().parents[2] / "README.md"

# The example answers a webhook from the AMS's web view: give it one that does not verify.
_PRELUDE = 'raw_body, headers = b"{}", {}\n'
_REPORT = """
import json as _json
print(_json.dumps({
    "total": str(invoice.total), "tax": str(invoice.total_tax),
    "amount_type": invoice.amount_type.value, "currency": invoice.currency,
    "read": str(billing.get_invoice(invoice.provider_id).total),
    "webhook": response.status,
}))
"""


def readme_example() -> str:
    """The Python block under README's "The public API in ten lines"."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## The public API in ten lines", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "README has no Python block under 'The public API in ten lines'"
    return found.group(1)


def test_the_readme_example_bills_as_the_setup_guide_configures(tmp_path: Path) -> None:
    config = EmulatorConfig(rate_limits=False)
    emulator = XeroEmulator(config, clock=EmulatorClock.real())
    with serve_emulator(emulator) as server:
        env = provider_environment(
            config, server.base_url, database_url=f"sqlite:///{tmp_path / 'billing.sqlite3'}"
        )
        assert env["XERO_AMOUNT_TYPE"] == "INCLUSIVE"  # the setup guide's value
        assert env["XERO_CURRENCY_CODE"] == "NZD"
        done = subprocess.run(
            [sys.executable, "-c", _PRELUDE + readme_example() + _REPORT],
            env={**os.environ, **env},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["amount_type"] == "INCLUSIVE"
    assert result["currency"] == "NZD"
    assert Decimal(result["total"]) == Decimal("120.00")
    assert Decimal(result["tax"]) == Decimal("15.65")
    assert Decimal(result["read"]) == Decimal("120.00")  # what Xero holds, read back
    assert result["webhook"] == 401
