"""rules_versions: when every live lead was rescored under the version (a version applied from the
web is rescored by the worker, chunk by chunk, until none is left under an earlier one)

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-02 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rules_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rescored_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rules_versions", schema=None) as batch_op:
        batch_op.drop_column("rescored_at")
