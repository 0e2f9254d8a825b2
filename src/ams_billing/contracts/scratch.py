"""Deprecated path of :mod:`ams_billing.testing.scratch`: each name warns, then forwards.

The harnesses' scratch stores moved there.
Test support that needs neither pytest nor Hypothesis lives in :mod:`ams_billing.testing`
(issue 18).
"""

from ams_billing.core.deprecation import moved_module

__getattr__ = moved_module(__name__, "ams_billing.testing.scratch")
