"""Invoice snapshots: room for the neutral status names.

The status column was sized for Xero's names (16 characters); the neutral set has
``AWAITING_APPROVAL`` (17), which PostgreSQL refused. Rows keep their values: a status
written under an old name (``AUTHORISED``) still reads as its new one (``OPEN``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-07-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Widen ``ams_billing_invoice_snapshots.status`` to 32 characters."""
    with op.batch_alter_table("ams_billing_invoice_snapshots") as batch:
        batch.alter_column(
            "status", existing_type=sa.String(16), type_=sa.String(32), existing_nullable=False
        )


def downgrade() -> None:
    """Narrow the column back to 16 characters (a row holding AWAITING_APPROVAL fails it)."""
    with op.batch_alter_table("ams_billing_invoice_snapshots") as batch:
        batch.alter_column(
            "status", existing_type=sa.String(32), type_=sa.String(16), existing_nullable=False
        )
