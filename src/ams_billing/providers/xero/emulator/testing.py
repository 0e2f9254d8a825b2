"""Deprecated path of :mod:`ams_billing.contracts.xero_emulator`: the emulator's pytest fixtures.

``pytest_plugins = ["ams_billing.providers.xero.emulator.testing"]`` still loads them, with a
``DeprecationWarning``; name ``ams_billing.contracts.xero_emulator`` instead (only the contracts
package imports pytest).
"""

import warnings

from ams_billing.contracts.xero_emulator import *  # noqa: F403
from ams_billing.contracts.xero_emulator import __all__  # noqa: F401

warnings.warn(
    "ams_billing.providers.xero.emulator.testing moved to ams_billing.contracts.xero_emulator",
    DeprecationWarning,
    stacklevel=2,
)
