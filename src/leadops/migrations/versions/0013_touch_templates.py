"""touches: the template or script a touch used, and the touch stage it was made at

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("stage", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.drop_column("stage")
        batch_op.drop_column("template")
