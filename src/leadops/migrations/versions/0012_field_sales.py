"""field sales: an opportunity's expected close and the whole history of its changes; quotas

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expected_close_on", sa.Date(), nullable=True))
    with op.batch_alter_table("opportunity_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="stage", nullable=False)
        )
        batch_op.add_column(sa.Column("from_value", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("to_value", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=300), nullable=True))
    op.create_table(
        "quotas",
        sa.Column("id", ID, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("subject_key", sa.String(length=40), nullable=False),
        sa.Column("team_id", ID, nullable=True),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("appointments", sa.Integer(), nullable=True),
        sa.Column("opportunities", sa.Integer(), nullable=True),
        sa.Column("won_amount", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("set_by_id", ID, nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_quotas_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_quotas_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["users.id"],
            name=op.f("fk_quotas_set_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotas")),
        sa.UniqueConstraint("month", "subject_key", name=op.f("uq_quotas_month_subject_key")),
    )
    op.create_index("ix_quotas_team_id", "quotas", ["team_id"])
    op.create_index("ix_quotas_user_id", "quotas", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_quotas_user_id", table_name="quotas")
    op.drop_index("ix_quotas_team_id", table_name="quotas")
    op.drop_table("quotas")
    with op.batch_alter_table("opportunity_events", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("to_value")
        batch_op.drop_column("from_value")
        batch_op.drop_column("kind")
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_column("expected_close_on")
