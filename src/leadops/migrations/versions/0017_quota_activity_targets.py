"""quotas: monthly targets for touches and connects, beside appointments (the dashboard's three)

Revision ID: 0017
Revises: 0019
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quotas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("touches", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("connects", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quotas", schema=None) as batch_op:
        batch_op.drop_column("connects")
        batch_op.drop_column("touches")
