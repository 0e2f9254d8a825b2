"""Deprecated path of :mod:`ams_billing.emulators.xero`: each name warns, then forwards.

The Xero emulator moved there.
Emulators are kept apart from the providers they stand in for (issue 18); serve it with
``python -m ams_billing.emulators.xero`` or ``ams-billing emulator``.
"""

from ams_billing.core.deprecation import moved_module

__getattr__ = moved_module(__name__, "ams_billing.emulators.xero")
