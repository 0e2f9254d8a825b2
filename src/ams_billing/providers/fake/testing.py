"""Deprecated path of :mod:`ams_billing.testing.fake`: each name warns, then forwards.

The fake provider's contract harness moved there.
No harness lives under ``providers/`` (issue 18); the fake's test driver is
:class:`ams_billing.testing.FakeDriver`.
"""

from ams_billing.core.deprecation import moved_module

__getattr__ = moved_module(__name__, "ams_billing.testing.fake")
