"""Deprecated: ``python -m ams_billing.providers.xero.emulator`` still serves the emulator.

It warns, then runs ``python -m ams_billing.emulators.xero`` with the same arguments.
"""

import runpy
import warnings

if __name__ == "__main__":
    warnings.warn(
        "python -m ams_billing.providers.xero.emulator is deprecated: run "
        "python -m ams_billing.emulators.xero (or ams-billing emulator)",
        DeprecationWarning,
        stacklevel=1,
    )
    runpy.run_module("ams_billing.emulators.xero", run_name="__main__", alter_sys=True)
