"""scoring state and ledger keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 01:36:18.941780
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "group_scores",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )
        batch_op.add_column(
            sa.Column(
                "score_state",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )
        batch_op.add_column(sa.Column("scored_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("score_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_leads_score_due_at"), ["score_due_at"], unique=False)

    with op.batch_alter_table("score_ledger", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("line_key", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.drop_index(batch_op.f("ix_score_ledger_at"))
        batch_op.create_index("ix_score_ledger_version_at", ["rules_version", "at"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_score_ledger_lead_id_rules_version_rule_id_line_key"),
            ["lead_id", "rules_version", "rule_id", "line_key"],
        )


def downgrade() -> None:
    with op.batch_alter_table("score_ledger", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_score_ledger_lead_id_rules_version_rule_id_line_key"), type_="unique"
        )
        batch_op.drop_index("ix_score_ledger_version_at")
        batch_op.create_index(batch_op.f("ix_score_ledger_at"), ["at"], unique=False)
        batch_op.drop_column("line_key")

    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leads_score_due_at"))
        batch_op.drop_column("score_due_at")
        batch_op.drop_column("scored_version")
        batch_op.drop_column("score_state")
        batch_op.drop_column("group_scores")
