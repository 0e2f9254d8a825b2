"""The inbox: an index for the claim order, and when each entry was completed.

``claim`` looks for entries not done, in insertion order; without the index it reads every
row ever received, done ones included, so claiming slowed as the inbox aged. ``completed_at``
says when an entry was done, so old done entries can be purged
(:meth:`~ams_billing.stores.SqlWebhookInbox.purge_completed`). Entries done before this
revision have no completion time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-07-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``completed_at`` and the claim index."""
    with op.batch_alter_table("ams_billing_inbox_entries") as batch:
        batch.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_ams_billing_inbox_entries_claim", "ams_billing_inbox_entries", ["done", "position"]
    )


def downgrade() -> None:
    """Drop the claim index and ``completed_at``."""
    op.drop_index("ix_ams_billing_inbox_entries_claim", "ams_billing_inbox_entries")
    with op.batch_alter_table("ams_billing_inbox_entries") as batch:
        batch.drop_column("completed_at")
