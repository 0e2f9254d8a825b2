"""Production modules never import test code: harnesses, the emulator, pytest or Hypothesis.

What a fresh interpreter really loads, package ``__init__`` modules included, which the static
import graph (``test_core_import_graph.py``) does not follow. The old paths of moved test
support (``providers.xero.testing`` and the rest) are listed too: they forward lazily, so no
production import may load them either.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

TEST_ONLY = (
    "ams_billing.contracts",
    "ams_billing.emulators",
    "ams_billing.testing",
    "ams_billing.providers.xero.testing",
    "ams_billing.providers.xero.contract_driver",
    "ams_billing.providers.xero.emulator",
    "pytest",
    "hypothesis",
)


@pytest.mark.parametrize(
    "module",
    [
        "ams_billing",
        "ams_billing.assembly",
        "ams_billing.stores",
        "ams_billing.core.webhooks",
        "ams_billing.providers.xero",
        "ams_billing.contrib.webhooks.wsgi",
        "ams_billing.contrib.webhooks.asgi",
        "ams_billing.contrib.ams",
        "ams_billing.contrib.django.service",
        "ams_billing.contrib.django.processing",
    ],
)
def test_importing_a_production_module_loads_no_test_code(module: str) -> None:
    probe = (
        f"import sys, {module}\n"
        f"print('\\n'.join(m for m in sys.modules if m.startswith({TEST_ONLY!r})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == [], f"{module} imports test code: {loaded}"
