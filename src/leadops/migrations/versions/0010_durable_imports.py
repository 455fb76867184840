"""durable imports: the job's file, mapping and reading options kept, its claim and resume point

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(sa.Column("mapping_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("options", JSON, nullable=True))
        batch.add_column(sa.Column("rows_done", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resumes", sa.Integer(), server_default="0", nullable=False))
        batch.create_index("ix_import_jobs_state_lease", ["state", "lease_until"])
    op.execute("UPDATE import_jobs SET rows_done = rows_total")
    op.create_table(
        "import_files",
        sa.Column("job_id", ID, nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("size", ID, nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_jobs.id"],
            name=op.f("fk_import_files_job_id_import_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_import_files")),
    )


def downgrade() -> None:
    op.drop_table("import_files")
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_index("ix_import_jobs_state_lease")
        for column in ("resumes", "lease_until", "claimed_by", "rows_done", "options"):
            batch.drop_column(column)
        batch.drop_column("mapping_text")
