"""Moved to :mod:`ams_billing.core.budget` (issue 19): the budget is provider-neutral.

Re-exported here, where it was first defined, so imports of the old path keep working.
"""

from ams_billing.core.budget import Budget, LocalBudget, RedisBudget, Refusal

__all__ = ["Budget", "LocalBudget", "RedisBudget", "Refusal"]
