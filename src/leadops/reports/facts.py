"""The facts most reports count, as SQL: each live lead with its acquisition time and the moments of
its milestones, so that reports group and count in the database instead of reading every lead."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.sql import Subquery

from leadops.models import Lead, LeadEvent, Opportunity
from leadops.models.base import UTCDateTime
from leadops.models.leads import LIFECYCLE_STAGES


def _from(stage: str) -> tuple[str, ...]:
    """The lifecycle stages that count as having reached ``stage`` (it and every later one)."""
    return LIFECYCLE_STAGES[LIFECYCLE_STAGES.index(stage) :]


def utc_moment(expression: Any) -> Any:
    """An SQL expression read back as an aware UTC time."""
    return type_coerce(expression, UTCDateTime())


def count_if(condition: Any) -> Any:
    """SQL: how many rows of the group meet ``condition``."""
    return func.sum(case((condition, 1), else_=0))


def first_appointments() -> Subquery:
    """Per lead with an opportunity: ``lead_id`` and ``at``, its first opportunity's creation
    (its appointment)."""
    return (
        select(Opportunity.lead_id, func.min(Opportunity.created_at).label("at"))
        .where(Opportunity.lead_id.isnot(None))
        .group_by(Opportunity.lead_id)
        .subquery("first_appointment")
    )


def milestones() -> Subquery:
    """Per live (not merged) lead: ``id, created_at, source, account_id, is_valid, status,
    owner_id``, what segments look at (``title, department, prefecture, custom``), and ``mql_at`` /
    ``sql_at`` (the first lifecycle event to that stage or a later one; a lead whose stage was set
    without an event reached it at its creation), ``appointment_at`` (its first opportunity's
    creation), ``won_at`` / ``won_amount`` (the close of its first-created won opportunity)."""
    reached = (
        select(
            LeadEvent.lead_id,
            *(
                func.min(case((LeadEvent.to_value.in_(_from(stage)), LeadEvent.at))).label(
                    f"{stage}_at"
                )
                for stage in ("mql", "sql")
            ),
        )
        .where(LeadEvent.kind == "lifecycle_stage")
        .group_by(LeadEvent.lead_id)
        .subquery("reached")
    )
    booked = first_appointments()
    ranked = (
        select(
            Opportunity.lead_id,
            Opportunity.closed_at,
            Opportunity.amount,
            func.row_number()
            .over(
                partition_by=Opportunity.lead_id, order_by=(Opportunity.created_at, Opportunity.id)
            )
            .label("n"),
        )
        .where(
            Opportunity.lead_id.isnot(None),
            Opportunity.stage == "won",
            Opportunity.closed_at.isnot(None),
        )
        .subquery("ranked")
    )
    won = (  # grouped (one row per lead anyway) so that both databases join it by lead id
        select(
            ranked.c.lead_id,
            func.max(ranked.c.closed_at).label("closed_at"),
            func.max(ranked.c.amount).label("amount"),
        )
        .where(ranked.c.n == 1)
        .group_by(ranked.c.lead_id)
        .subquery("won")
    )

    def reached_at(stage: str) -> Any:
        column = reached.c[f"{stage}_at"]
        return utc_moment(
            func.coalesce(column, case((Lead.lifecycle_stage.in_(_from(stage)), Lead.created_at)))
        ).label(f"{stage}_at")

    return (
        select(
            Lead.id,
            Lead.created_at,
            Lead.source,
            Lead.account_id,
            Lead.is_valid,
            Lead.status,
            Lead.owner_id,
            Lead.title,
            Lead.department,
            Lead.prefecture,
            Lead.custom,
            reached_at("mql"),
            reached_at("sql"),
            utc_moment(booked.c.at).label("appointment_at"),
            utc_moment(won.c.closed_at).label("won_at"),
            won.c.amount.label("won_amount"),
        )
        .outerjoin(reached, reached.c.lead_id == Lead.id)
        .outerjoin(booked, booked.c.lead_id == Lead.id)
        .outerjoin(won, won.c.lead_id == Lead.id)
        .where(Lead.merged_into_id.is_(None))
        .subquery("milestones")
    )


def won_anomalies(m: Subquery) -> Any:
    """The condition of a lead won before it was acquired (shown as an anomaly, left out of
    durations)."""
    return and_(m.c.won_at.isnot(None), m.c.won_at < m.c.created_at)
