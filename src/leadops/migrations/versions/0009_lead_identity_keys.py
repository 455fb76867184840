"""lead identity keys: the phone and the name with company a lead is matched on, and its address

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 10:00:00

Leads already stored get their keys here, as the importer computes them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadops.matching import name_key, normalize_phone

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_key", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("name_key", sa.String(length=720), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=300), nullable=True))
        batch_op.create_index("ix_leads_name_key", ["name_key"], unique=False)
        batch_op.create_index("ix_leads_phone_key", ["phone_key"], unique=False)
    _fill_keys()


def _phone_key(phone: str | None) -> str | None:
    if not phone:
        return None
    try:
        return normalize_phone(phone)
    except ValueError:
        return None


def _fill_keys() -> None:
    leads = sa.table(
        "leads",
        sa.column("id", sa.BigInteger),
        sa.column("first_name", sa.String),
        sa.column("last_name", sa.String),
        sa.column("company", sa.String),
        sa.column("phone", sa.String),
        sa.column("merged_into_id", sa.BigInteger),
        sa.column("phone_key", sa.String),
        sa.column("name_key", sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(leads.c.id, leads.c.first_name, leads.c.last_name, leads.c.company, leads.c.phone)
        .where(leads.c.merged_into_id.is_(None))
        .order_by(leads.c.id)
    ).all()
    updates = []
    for lead_id, first, last, company, phone in rows:
        name = name_key(last, first, company)
        key = _phone_key(phone)
        if key or name:
            updates.append({"lid": lead_id, "phone_key": key, "name_key": name})
    if updates:
        stmt = leads.update().where(leads.c.id == sa.bindparam("lid"))
        bind.execute(
            stmt.values(phone_key=sa.bindparam("phone_key"), name_key=sa.bindparam("name_key")),
            updates,
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_phone_key")
        batch_op.drop_index("ix_leads_name_key")
        batch_op.drop_column("address")
        batch_op.drop_column("name_key")
        batch_op.drop_column("phone_key")
