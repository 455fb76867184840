"""follow-up tasks a person schedules on a lead ("call back on the 5th at 10:00")

``follow_up_tasks`` holds whose each one is, when it is due, its note, and when (and by whom) it
was moved, done or cancelled; ``dedup_key`` makes scheduling the same open one twice find the first.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "follow_up_tasks",
        sa.Column("id", ID, nullable=False),
        sa.Column("lead_id", ID, nullable=False),
        sa.Column("assignee_id", ID, nullable=False),
        sa.Column("due_at", when, nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", ID, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("done_at", when, nullable=True),
        sa.Column("done_by_id", ID, nullable=True),
        sa.Column("cancelled_at", when, nullable=True),
        sa.Column("cancelled_by_id", ID, nullable=True),
        sa.Column("moved_at", when, nullable=True),
        sa.Column("moved_by_id", ID, nullable=True),
        sa.Column("first_due_at", when, nullable=True),
        sa.Column("reminded_at", when, nullable=True),
        sa.Column("dedup_key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["assignee_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["done_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["cancelled_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["moved_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_follow_up_tasks_dedup_key")),
    )
    op.create_index(
        "ix_follow_up_tasks_assignee_state_due",
        "follow_up_tasks",
        ["assignee_id", "state", "due_at"],
    )
    op.create_index("ix_follow_up_tasks_state_due", "follow_up_tasks", ["state", "due_at"])
    op.create_index("ix_follow_up_tasks_lead_state", "follow_up_tasks", ["lead_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_follow_up_tasks_lead_state", table_name="follow_up_tasks")
    op.drop_index("ix_follow_up_tasks_state_due", table_name="follow_up_tasks")
    op.drop_index("ix_follow_up_tasks_assignee_state_due", table_name="follow_up_tasks")
    op.drop_table("follow_up_tasks")
