"""The first schema: idempotency records, invoice snapshots, inbox entries.

Revision ID: 0001
Revises:
Create Date: 2026-07-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

# As of this revision: instants are DateTime(timezone=True), written in UTC by the stores;
# money is exact decimal text.
_INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "ams_billing_idempotency_records",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("updated_at", _INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_ams_billing_idempotency_records"),
    )
    op.create_table(
        "ams_billing_invoice_snapshots",
        sa.Column("invoice_id", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_paid", sa.String(64), nullable=False),
        sa.Column("updated_at", _INSTANT, nullable=False),
        sa.Column("stored_at", _INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", name="pk_ams_billing_invoice_snapshots"),
    )
    op.create_table(
        "ams_billing_inbox_entries",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("delivery", sa.Text(), nullable=False),
        sa.Column("received_at", _INSTANT, nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("leased_until", _INSTANT, nullable=True),
        sa.Column("done", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_ams_billing_inbox_entries"),
        sa.UniqueConstraint("entry_id", name="uq_ams_billing_inbox_entries_entry_id"),
    )


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("ams_billing_inbox_entries")
    op.drop_table("ams_billing_invoice_snapshots")
    op.drop_table("ams_billing_idempotency_records")
