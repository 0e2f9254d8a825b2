"""An example ams-billing provider that keeps its ledger in SQLite."""

from ams_billing_sqlite.provider import SqliteProvider

__all__ = ["SqliteProvider"]
