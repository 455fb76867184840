"""Reports over leads and their outcomes: status-board, funnel, cohort, kpis, sources.
Their definitions are in docs/reports.md."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from leadops.models import Lead, Touch, User
from leadops.models.leads import TOUCH_STAGES
from leadops.reports.base import (
    ReportParams,
    ReportResult,
    days_between,
    mean,
    median,
    rate,
    report,
    sorted_labels,
)
from leadops.reports.facts import count_if, milestones, utc_moment, won_anomalies
from leadops.reports.periods import period_key, period_of
from leadops.reports.revenue import attainment_section

BLANK = "(blank)"
TOTAL = "total"


def _won_anomalies(session: Session, m: Subquery, *where: Any) -> list[dict[str, Any]]:
    """Leads won before they were acquired: kept in counts, left out of durations, listed."""
    rows = session.execute(
        select(m.c.id, m.c.created_at, m.c.won_at).where(won_anomalies(m), *where).order_by(m.c.id)
    ).all()
    return [
        {"lead_id": i, "anomaly": "won_before_first_contact", "created_at": created, "won_at": won}
        for i, created, won in rows
    ]


@report("status-board", "open leads per member × status and × touch stage")
def status_board(session: Session, params: ReportParams) -> ReportResult:
    owner = func.coalesce(User.email, "(unassigned)")
    rows = session.execute(
        select(owner, Lead.status, Lead.touch_stage, func.count())
        .outerjoin(User, User.id == Lead.owner_id)
        .where(Lead.merged_into_id.is_(None))
        .group_by(owner, Lead.status, Lead.touch_stage)
    ).all()
    statuses = sorted_labels(r[1] for r in rows)
    by_status: dict[str, Counter[str]] = defaultdict(Counter)
    by_stage: dict[str, Counter[str]] = defaultdict(Counter)
    for member, status, stage, count in rows:
        by_status[member][status] += count
        by_stage[member][stage] += count
    members = sorted(by_status)
    return ReportResult(
        "status-board",
        ["member", *statuses, "total"],
        [[m, *(by_status[m][s] for s in statuses), sum(by_status[m].values())] for m in members],
        "Leads (not merged) per owner and status, now; the touch-stage section counts the same "
        "leads by stage.",
        sections={
            "touch_stage": {
                "columns": ["member", *TOUCH_STAGES],
                "rows": [[m, *(by_stage[m][s] for s in TOUCH_STAGES)] for m in members],
            }
        },
    )


@report(
    "funnel",
    "leads acquired in the range: how many reached each stage, and the conversion between stages",
)
def funnel(session: Session, params: ReportParams) -> ReportResult:
    m = milestones()
    counts = session.execute(
        select(
            func.count(),
            func.count(m.c.mql_at),
            func.count(m.c.sql_at),
            func.count(m.c.appointment_at),
            func.count(m.c.won_at),
        ).where(*params.in_range(m.c.created_at))
    ).one()
    steps = list(
        zip(
            ("leads", "mql", "sql", "appointment", "won"),
            (int(c or 0) for c in counts),
            strict=True,
        )
    )
    rows = []
    for index, (step, count) in enumerate(steps):
        previous = steps[index - 1][1] if index else count
        rows.append([step, count, rate(count, previous), rate(count, steps[0][1])])
    return ReportResult(
        "funnel",
        ["stage", "leads", "from_previous", "from_first"],
        rows,
        "Leads created in the range, counted at each stage they reached by now (reaching a later "
        "stage counts "
        "for the earlier ones); conversion from the stage before and from all leads.",
    )


@report(
    "sources",
    "per source: leads, valid-lead rate, unique companies, MQL, appointment and won rates",
)
def sources(session: Session, params: ReportParams) -> ReportResult:
    m = milestones()
    found = session.execute(
        select(
            m.c.source,
            func.count(),
            count_if(m.c.is_valid),
            func.count(func.distinct(m.c.account_id)),
            func.count(m.c.mql_at),
            func.count(m.c.appointment_at),
            func.count(m.c.won_at),
        )
        .where(*params.in_range(m.c.created_at))
        .group_by(m.c.source)
    ).all()
    rows = []
    for source, n, valid, companies, mql, appointments, won in sorted(
        found, key=lambda r: r[0] or BLANK
    ):
        rows.append(
            [
                source if source is not None else BLANK,
                n,
                rate(valid or 0, n),
                companies,
                rate(mql, n),
                appointments,
                rate(appointments, n),
                won,
                rate(won, n),
            ]
        )
    return ReportResult(
        "sources",
        [
            "source",
            "leads",
            "valid_rate",
            "unique_companies",
            "mql_rate",
            "appointments",
            "appointment_rate",
            "won",
            "won_rate",
        ],
        rows,
        "Leads created in the range by source (経路; a blank source is its own row, apart from "
        "'unknown'); rates "
        "are of those leads, counting outcomes reached by now.",
    )


@report("cohort", "acquisition period × outcome period: appointments and won, counts and rates")
def cohort(session: Session, params: ReportParams) -> ReportResult:
    m = milestones()
    created = period_key(session, m.c.created_at, params)
    in_range = params.in_range(m.c.created_at)
    sizes: Counter[str] = Counter()
    for key, count in session.execute(
        select(created, func.count()).where(*in_range).group_by(created)
    ):
        sizes[period_of(key, params)] += count
    cells: Counter[tuple[str, str, str]] = Counter()
    for outcome, column in (("appointment", m.c.appointment_at), ("won", m.c.won_at)):
        when = period_key(session, column, params)
        for group, happened, count in session.execute(
            select(created, when, func.count())
            .where(*in_range, column.isnot(None))
            .group_by(created, when)
        ):
            cells[(period_of(group, params), outcome, period_of(happened, params))] += count
    rows = [
        [group, sizes[group], outcome, when, count, rate(count, sizes[group])]
        for (group, outcome, when), count in sorted(cells.items())
    ]
    return ReportResult(
        "cohort",
        ["cohort", "cohort_leads", "outcome", "outcome_period", "count", "rate"],
        rows,
        "Leads created in the range, grouped by the period they were created in (the cohort); for "
        "each cohort, "
        "how many had their first appointment, or were won, in each later period, and the share of "
        "the cohort.",
        anomalies=_won_anomalies(session, m, *in_range),
    )


@report(
    "kpis",
    "per period: new, valid, companies, MQL, SQL, touches, connects, appointments, won, velocity; "
    "quota attainment",
)
def kpis(session: Session, params: ReportParams) -> ReportResult:
    m = milestones()
    cohort_mode = params.by == "cohort"
    measures: dict[str, Counter[str]] = defaultdict(Counter)
    won_amount: dict[str, float] = defaultdict(float)
    velocity: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    companies: dict[str, int] = {}

    def add(key: Any, name: str, count: int) -> str:
        label = period_of(key, params)
        for row in (label, TOTAL):
            measures[row][name] += count
        return label

    created = period_key(session, m.c.created_at, params)
    in_range = params.in_range(m.c.created_at)
    for key, n, valid, distinct_companies in session.execute(
        select(
            created, func.count(), count_if(m.c.is_valid), func.count(func.distinct(m.c.account_id))
        )
        .where(*in_range)
        .group_by(created)
    ):
        label = add(key, "new_leads", n)
        add(key, "valid_leads", int(valid or 0))
        companies[label] = distinct_companies
    companies[TOTAL] = session.execute(
        select(func.count(func.distinct(m.c.account_id))).where(*in_range)
    ).scalar_one()
    for stage in ("mql", "sql"):
        column = m.c[f"{stage}_at"]
        when = m.c.created_at if cohort_mode else column
        key_of = period_key(session, when, params)
        for key, n in session.execute(
            select(key_of, func.count())
            .where(column.isnot(None), *params.in_range(when))
            .group_by(key_of)
        ):
            add(key, stage, n)
    odd = case((won_anomalies(m), 1), else_=0)
    for name, kind, column in (
        ("appointments", "appointment", m.c.appointment_at),
        ("won", "won", m.c.won_at),
    ):
        when = m.c.created_at if cohort_mode else column
        for key, lead_created, at, amount, anomaly in session.execute(
            select(
                period_key(session, when, params), m.c.created_at, column, m.c.won_amount, odd
            ).where(column.isnot(None), *params.in_range(when))
        ):
            label = add(key, name, 1)
            for row in (label, TOTAL):
                if name == "won":
                    won_amount[row] += float(amount or 0.0)
                if not anomaly:
                    velocity[row][kind].append(days_between(lead_created, at))
    touched = utc_moment(func.coalesce(Lead.created_at, Touch.at)) if cohort_mode else Touch.at
    key_of = period_key(session, touched, params)
    statement = select(
        key_of, func.count(), count_if(Touch.outcome.in_(("connected", "replied")))
    ).select_from(Touch)
    if cohort_mode:
        statement = statement.outerjoin(
            Lead, and_(Lead.id == Touch.lead_id, Lead.merged_into_id.is_(None))
        )
    for key, n, connects in session.execute(
        statement.where(*params.in_range(touched)).group_by(key_of)
    ):
        add(key, "touches", n)
        add(key, "connects", int(connects or 0))
    columns = [
        "period",
        "new_leads",
        "valid_leads",
        "unique_companies",
        "mql",
        "sql",
        "touches",
        "connects",
        "appointments",
        "won",
        "conversion_rate",
        "days_to_appointment_median",
        "days_to_won_median",
        "days_to_won_mean",
        "average_deal_size",
    ]
    rows = []
    for label in [*sorted(k for k in measures if k != TOTAL), *([TOTAL] if measures else [])]:
        c, v = measures[label], velocity[label]
        rows.append(
            [
                label,
                c["new_leads"],
                c["valid_leads"],
                companies.get(label, 0),
                c["mql"],
                c["sql"],
                c["touches"],
                c["connects"],
                c["appointments"],
                c["won"],
                rate(c["won"], c["new_leads"]),
                median(v["appointment"]),
                median(v["won"]),
                mean(v["won"]),
                round(won_amount[label] / c["won"], 2) if c["won"] and won_amount[label] else None,
            ]
        )
    return ReportResult(
        "kpis",
        columns,
        rows,
        "By period: each measure counted in the period it happened (by=period) or in the period "
        "its lead was "
        "acquired (by=cohort); the last row is the whole range. Conversion = won ÷ new leads of "
        "the row. "
        "Velocity in days from the lead's "
        "creation; a deal won before its lead's creation is counted but left out of velocity and "
        "listed as an "
        "anomaly.",
        anomalies=_won_anomalies(session, m),
        sections={"attainment": attainment_section(session, params)},
    )
