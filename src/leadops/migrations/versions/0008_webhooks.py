"""webhook sources, receipts and refusals

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_sources",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("previous_secret", sa.String(length=200), nullable=True),
        sa.Column("previous_valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_webhook_sources_name")),
    )
    op.create_table(
        "webhook_receipts",
        sa.Column("source_id", ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["webhook_sources.id"],
            name=op.f("fk_webhook_receipts_source_id_webhook_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "key", name=op.f("pk_webhook_receipts")),
    )
    with op.batch_alter_table("webhook_receipts", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_receipts_expires_at", ["expires_at"], unique=False)

    op.create_table(
        "webhook_refusals",
        sa.Column("id", ID, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_id", ID, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["webhook_sources.id"],
            name=op.f("fk_webhook_refusals_source_id_webhook_sources"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_refusals")),
    )
    with op.batch_alter_table("webhook_refusals", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_refusals_at", ["at"], unique=False)
        batch_op.create_index("ix_webhook_refusals_source_at", ["source", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_refusals", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_refusals_source_at")
        batch_op.drop_index("ix_webhook_refusals_at")

    op.drop_table("webhook_refusals")
    with op.batch_alter_table("webhook_receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_receipts_expires_at")

    op.drop_table("webhook_receipts")
    op.drop_table("webhook_sources")
