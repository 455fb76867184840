"""Questions the ledger answers: why a lead has its score, its score at any moment, and who
jumped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.db import chunked
from leadops.models import Activity, Lead, ScoreLedger
from leadops.rules.loader import CompiledRules


def explain(session: Session, lead_id: int, rules: CompiledRules) -> dict[str, Any]:
    """The ledger lines under the active rules that make the lead's score, oldest first."""
    stmt = (
        select(ScoreLedger, Activity.type)
        .outerjoin(Activity, Activity.id == ScoreLedger.activity_id)
        .where(ScoreLedger.lead_id == lead_id, ScoreLedger.rules_version == rules.version)
        .order_by(ScoreLedger.at, ScoreLedger.id)
    )
    lines = []
    groups: dict[str, int] = {}
    for line, activity_type in session.execute(stmt):
        groups[line.score_group] = groups.get(line.score_group, 0) + line.delta
        lines.append(
            {
                "at": line.at,
                "rule": line.rule_id,
                "group": line.score_group,
                "delta": line.delta,
                "reason": line.reason,
                "activity_id": line.activity_id,
                "activity_type": activity_type,
            }
        )
    total = sum(v for g, v in groups.items() if g in rules.totals)
    return {"rules_version": rules.version, "score": total, "groups": groups, "lines": lines}


def score_at(session: Session, lead_id: int, at: datetime, rules: CompiledRules) -> int:
    """The lead's score at ``at``: the sum of its ledger up to that moment."""
    stmt = select(func.coalesce(func.sum(ScoreLedger.delta), 0)).where(
        ScoreLedger.lead_id == lead_id,
        ScoreLedger.rules_version == rules.version,
        ScoreLedger.at <= at,
        ScoreLedger.score_group.in_(sorted(rules.totals)),
    )
    return int(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class Jump:
    lead_id: int
    rise: int
    score: int
    status: str
    email: str | None = None


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in ``tz``."""
    start = datetime.combine(day, time(), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)


def score_jumps(
    session: Session, rules: CompiledRules, day: date, tz: tzinfo, *, min_rise: int = 10
) -> list[Jump]:
    """Leads whose score rose by at least ``min_rise`` during ``day`` (local), i.e. since the
    previous day."""
    return score_jumps_between(session, rules, day, day, tz, min_rise=min_rise).get(day, [])


def score_jumps_between(
    session: Session,
    rules: CompiledRules,
    first: date,
    last: date,
    tz: tzinfo,
    *,
    min_rise: int = 10,
) -> dict[date, list[Jump]]:
    """For each local day from ``first`` to ``last``, the leads whose score rose by at least
    ``min_rise`` that day, biggest rise first: one aggregate of the ledger per day (on the
    version/time index), then the jumped leads' score, status and e-mail now."""
    rise = func.sum(ScoreLedger.delta)
    jumped: dict[tuple[date, int], int] = {}
    day = first
    while day <= last:
        start, end = day_bounds(day, tz)
        stmt = (
            select(ScoreLedger.lead_id, rise)
            .where(
                ScoreLedger.rules_version == rules.version,
                ScoreLedger.at >= start,
                ScoreLedger.at < end,
                ScoreLedger.score_group.in_(sorted(rules.totals)),
            )
            .group_by(ScoreLedger.lead_id)
            .having(rise >= min_rise)
        )
        jumped.update({(day, lead_id): int(total) for lead_id, total in session.execute(stmt)})
        day += timedelta(days=1)
    ids = sorted({lead_id for _, lead_id in jumped})
    now: dict[int, tuple[int, str, str | None]] = {}
    for chunk in chunked(ids):
        now.update(
            {
                i: (score, status, email)
                for i, score, status, email in session.execute(
                    select(Lead.id, Lead.score, Lead.status, Lead.email).where(Lead.id.in_(chunk))
                )
            }
        )
    found: dict[date, list[Jump]] = {}
    for (day, lead_id), total in sorted(
        jumped.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])
    ):
        score, status, email = now[lead_id]
        found.setdefault(day, []).append(Jump(lead_id, total, score, status, email))
    return found
