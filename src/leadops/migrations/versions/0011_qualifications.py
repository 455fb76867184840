"""qualifications: a rep's answers that make a lead an SQL

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "qualifications",
        sa.Column("id", ID, nullable=False),
        sa.Column("lead_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("budget", sa.String(length=500), nullable=True),
        sa.Column("authority", sa.String(length=500), nullable=True),
        sa.Column("need", sa.String(length=500), nullable=True),
        sa.Column("timing", sa.String(length=500), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_qualifications_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_qualifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualifications")),
    )
    op.create_index("ix_qualifications_lead_at", "qualifications", ["lead_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_qualifications_lead_at", table_name="qualifications")
    op.drop_table("qualifications")
