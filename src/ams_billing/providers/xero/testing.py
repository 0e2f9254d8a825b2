"""Deprecated path of :mod:`ams_billing.emulators.xero.harness`: each name warns, then forwards.

The Xero provider's contract harnesses moved there.
Test support lives beside the emulator, never in the production client (issue 18).
"""

from ams_billing._moved import moved_to

__getattr__ = moved_to(__name__, "ams_billing.emulators.xero.harness")
