"""Teams, users and their out-of-office periods."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadops.models.base import Base, BigId, UTCDateTime


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_teams_manager_id_users")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    #: An id from another system (a CRM owner id, a hashed SDR id) for users imported with data.
    external_ref: Mapped[str | None] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="member")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    capacity: Mapped[int | None] = mapped_column(Integer)
    routing_weight: Mapped[float] = mapped_column(Numeric(8, 3, asdecimal=False), default=1.0)
    locale: Mapped[str] = mapped_column(String(10), default="ja")
    password_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutOfOffice(Base):
    __tablename__ = "out_of_office"
    __table_args__ = (Index("ix_out_of_office_user_period", "user_id", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))


class RoutingCredit(Base):
    """A rep's round-robin credit within a team (see routing.strategies.round_robin). Written only
    while the team's row is locked, so concurrent routers share one exact sequence."""

    __tablename__ = "routing_credits"

    team_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    credit: Mapped[float] = mapped_column(Float, default=0.0)
    assigned: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


def manager_of(team_id: int | None, teams: Mapping[int, Any]) -> int | None:
    """The team's manager, else the nearest parent team's (``teams``: rows with manager_id and
    parent_id)."""
    seen: set[int] = set()
    current = teams.get(team_id) if team_id is not None else None
    while current is not None and current.id not in seen:
        if current.manager_id is not None:
            manager: int = current.manager_id
            return manager
        seen.add(current.id)
        current = teams.get(current.parent_id) if current.parent_id is not None else None
    return None
