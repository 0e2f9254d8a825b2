"""Deprecated path of :mod:`ams_billing.emulators.xero.driver`: each name warns, then forwards.

The Xero test driver's optional contract methods moved there.
Test support lives beside the emulator, never in the production client (issue 18).
"""

from ams_billing.core.deprecation import moved_module

__getattr__ = moved_module(__name__, "ams_billing.emulators.xero.driver")
