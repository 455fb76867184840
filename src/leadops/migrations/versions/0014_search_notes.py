"""the search box's keys of each lead, and notes on leads

``lead_search_keys`` holds what a lead is found by (``leadops.search``), folded as a query is; the
leads already stored get theirs here, as the ingest services write them. ``lead_notes`` are notes
people keep on a lead apart from touches.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 13:30:00
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from leadops.search import key_rows

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    key = sa.String(length=300).with_variant(sa.String(length=300, collation="C"), "postgresql")
    op.create_table(
        "lead_search_keys",
        sa.Column("lead_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", key, nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("lead_id", "kind", "key"),
    )
    op.create_index("ix_lead_search_keys_key", "lead_search_keys", ["key", "lead_id"])
    op.create_table(
        "lead_notes",
        sa.Column("id", ID, nullable=False),
        sa.Column("lead_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lead_notes_lead_at", "lead_notes", ["lead_id", "at"])
    _fill_keys()


def _custom(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _fill_keys() -> None:
    leads = sa.table(
        "leads",
        sa.column("id", sa.BigInteger),
        sa.column("email", sa.String),
        sa.column("first_name", sa.String),
        sa.column("last_name", sa.String),
        sa.column("company", sa.String),
        sa.column("phone", sa.String),
        sa.column("phone_key", sa.String),
        sa.column("custom", sa.Text),
        sa.column("account_id", sa.BigInteger),
        sa.column("merged_into_id", sa.BigInteger),
    )
    accounts = sa.table("accounts", sa.column("id", sa.BigInteger), sa.column("name", sa.String))
    keys = sa.table(
        "lead_search_keys",
        sa.column("lead_id", sa.BigInteger),
        sa.column("kind", sa.String),
        sa.column("key", sa.String),
    )
    bind = op.get_bind()
    after = 0
    while True:
        rows = bind.execute(
            sa.select(
                leads.c.id,
                leads.c.email,
                leads.c.first_name,
                leads.c.last_name,
                leads.c.company,
                leads.c.phone,
                leads.c.phone_key,
                leads.c.custom,
                accounts.c.name.label("account"),
            )
            .outerjoin(accounts, accounts.c.id == leads.c.account_id)
            .where(leads.c.merged_into_id.is_(None), leads.c.id > after)
            .order_by(leads.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        found = [{**r._mapping, "custom": _custom(r.custom)} for r in rows]
        written = key_rows(found)
        if written:
            bind.execute(keys.insert(), written)
        after = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_lead_notes_lead_at", table_name="lead_notes")
    op.drop_table("lead_notes")
    op.drop_index("ix_lead_search_keys_key", table_name="lead_search_keys")
    op.drop_table("lead_search_keys")
