"""sla bookkeeping

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("escalated_due_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("escalated_due_at")
        batch_op.drop_column("reminded_due_at")
