"""Quota attainment (a section of ``kpis``) and the ``revenue`` report: appointments and the amount
won by source, level, campaign and team. Their definitions are in docs/reports.md."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, true
from sqlalchemy.orm import Session

from leadops.cadence.quotas import list_quotas, month_after
from leadops.lifecycle.machine import CONNECTING
from leadops.models import Campaign, Lead, Opportunity, Team, Touch, User
from leadops.models.opportunities import TARGET_MEASURES
from leadops.reports.base import N_, ReportParams, ReportResult, rate, report

BLANK = "(blank)"
NONE = "(none)"
DIMENSIONS = ("source", "level", "campaign", "team")
ATTAINMENT_COLUMNS = [
    "month",
    "subject",
    "name",
    "team",
    "measure",
    "target",
    "actual",
    "attainment",
]


def _month_of(at: datetime, params: ReportParams) -> date:
    return at.astimezone(params.tz).date().replace(day=1)


def _start(month: date, params: ReportParams) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=params.tz)


def _months_of_range(params: ReportParams) -> tuple[date | None, date | None]:
    """The first month the range touches and the month after its last one."""
    first = _month_of(params.start, params) if params.start is not None else None
    last = None
    if params.end is not None:
        last = month_after(_month_of(params.end - timedelta(microseconds=1), params))
    return first, last


def _descendants(teams: dict[int, int | None]) -> dict[int, set[int]]:
    """Each team with the teams under it (itself included)."""
    out: dict[int, set[int]] = {t: {t} for t in teams}
    for team in teams:
        seen: set[int] = set()
        parent = teams.get(team)
        while parent is not None and parent not in seen:
            seen.add(parent)
            out.setdefault(parent, {parent}).add(team)
            parent = teams.get(parent)
    return out


def _count_touches(
    session: Session,
    window: tuple[datetime, datetime],
    params: ReportParams,
    actual: dict[str, dict[date, Counter[int]]],
) -> None:
    """Each person's touches and connects (a touch connected or replied) per month of ``window``."""
    for user, at, outcome in session.execute(
        select(Touch.user_id, Touch.at, Touch.outcome).where(
            Touch.at >= window[0], Touch.at < window[1]
        )
    ):
        if user is None:
            continue
        month = _month_of(at, params)
        actual["touches"][month][user] += 1
        if outcome in CONNECTING:
            actual["connects"][month][user] += 1


def attainment_section(session: Session, params: ReportParams) -> dict[str, Any]:
    """Per month of the range with quotas, per quota (a team's or a member's) and measure: the
    target, the actual and attainment = actual ÷ target."""
    first, after = _months_of_range(params)
    quotas = list_quotas(session, start=first, end=after)
    rows: list[list[Any]] = []
    if not quotas:
        return {"columns": ATTAINMENT_COLUMNS, "rows": rows}
    months = sorted({date.fromisoformat(f"{q['month']}-01") for q in quotas})
    window = (_start(months[0], params), _start(month_after(months[-1]), params))
    actual: dict[str, dict[date, Counter[int]]] = {m: defaultdict(Counter) for m in TARGET_MEASURES}
    _count_touches(session, window, params, actual)
    amounts: dict[date, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for created, closed, stage, amount, owner, sdr in session.execute(
        select(
            Opportunity.created_at,
            Opportunity.closed_at,
            Opportunity.stage,
            Opportunity.amount,
            Opportunity.owner_id,
            Opportunity.sdr_id,
        ).where(
            or_(
                (Opportunity.created_at >= window[0]) & (Opportunity.created_at < window[1]),
                (Opportunity.closed_at >= window[0]) & (Opportunity.closed_at < window[1]),
            )
        )
    ):
        if window[0] <= created < window[1]:
            month = _month_of(created, params)
            if sdr is not None:
                actual["appointments"][month][sdr] += 1
            if owner is not None:
                actual["opportunities"][month][owner] += 1
        if stage == "won" and closed is not None and window[0] <= closed < window[1]:
            if owner is not None:
                amounts[_month_of(closed, params)][owner] += float(amount or 0.0)
    team_of = dict(session.execute(select(User.id, User.team_id)).all())
    parents = dict(session.execute(select(Team.id, Team.parent_id)).all())
    under = _descendants(parents)

    def value(measure: str, month: date, people: Iterable[int]) -> float:
        if measure == "won_amount":
            return round(sum(amounts[month].get(p, 0.0) for p in people), 2)
        return float(sum(actual[measure][month].get(p, 0) for p in people))

    for q in quotas:
        month = date.fromisoformat(f"{q['month']}-01")
        if q["user_id"] is not None:
            people: list[int] = [q["user_id"]]
        else:
            teams = under.get(q["team_id"], {q["team_id"]})
            people = [u for u, t in team_of.items() if t in teams]
        for measure in TARGET_MEASURES:
            target = q[measure]
            if target is None:
                continue
            got = value(measure, month, people)
            shown: float | int = got if measure == "won_amount" else int(got)
            rows.append(
                [q["month"], q["subject"], q["name"], q["team"], measure, target, shown]
                + [rate(got, target)]
            )
    return {"columns": ATTAINMENT_COLUMNS, "rows": rows}


@report(
    "revenue",
    "appointments, won deals and the amount won by source, level, campaign and team",
)
def revenue(session: Session, params: ReportParams) -> ReportResult:
    booked = Counter[tuple[str, str]]()
    won = Counter[tuple[str, str]]()
    amount: dict[tuple[str, str], float] = defaultdict(float)
    team_names = dict(session.execute(select(Team.id, Team.name)).all())
    team_of = dict(session.execute(select(User.id, User.team_id)).all())

    def team(user_id: int | None) -> str:
        found = team_of.get(user_id) if user_id is not None else None
        return team_names.get(found, NONE) if found is not None else NONE

    created_in = and_(true(), *params.in_range(Opportunity.created_at))
    won_in = and_(
        Opportunity.stage == "won",
        Opportunity.closed_at.isnot(None),
        *params.in_range(Opportunity.closed_at),
    )
    for created, closed, stage, value, owner, sdr, source, level, campaign in session.execute(
        select(
            Opportunity.created_at,
            Opportunity.closed_at,
            Opportunity.stage,
            Opportunity.amount,
            Opportunity.owner_id,
            Opportunity.sdr_id,
            Lead.source,
            Lead.level,
            Campaign.name,
        )
        .outerjoin(Lead, Lead.id == Opportunity.lead_id)
        .outerjoin(Campaign, Campaign.id == Lead.first_campaign_id)
        .where(or_(created_in, won_in))
    ):
        groups = {
            "source": (source or "").strip() or BLANK,
            "level": str(level) if level is not None else NONE,
            "campaign": campaign or NONE,
        }
        if params.within(created):
            for dimension, name in groups.items():
                booked[(dimension, name)] += 1
            booked[("team", team(sdr))] += 1
        if stage == "won" and params.within(closed):
            for dimension, name in {**groups, "team": team(owner)}.items():
                won[(dimension, name)] += 1
                amount[(dimension, name)] += float(value or 0.0)
    keys = sorted(set(booked) | set(won), key=lambda k: (DIMENSIONS.index(k[0]), k[1]))
    rows = [
        [
            dimension,
            name,
            booked[(dimension, name)],
            won[(dimension, name)],
            round(amount[(dimension, name)], 2),
            round(amount[(dimension, name)] / won[(dimension, name)], 2)
            if won[(dimension, name)]
            else None,
            rate(won[(dimension, name)], booked[(dimension, name)]),
        ]
        for dimension, name in keys
    ]
    return ReportResult(
        "revenue",
        [
            "dimension",
            "value",
            "appointments",
            "won",
            "won_amount",
            "average_deal_size",
            "won_per_appointment",
        ],
        rows,
        N_(
            "Appointments (opportunities created in the range) and won deals (closed won in the "
            "range) with their amount, grouped four ways: by the lead's source, its level now, "
            "its first campaign, and the team — appointments by the team of the rep who booked "
            "them, won deals by the team of their field-sales owner. Won per appointment divides "
            "the row's won deals by its appointments (both in the range, not a cohort)."
        ),
    )
