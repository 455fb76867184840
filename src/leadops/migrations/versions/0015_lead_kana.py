"""leads: the reading of the person's name in katakana (姓・名のフリガナ), as Japanese CRMs keep it

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_name_kana", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("first_name_kana", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("first_name_kana")
        batch_op.drop_column("last_name_kana")
