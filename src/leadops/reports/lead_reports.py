"""Reports over leads and their outcomes: status-board, funnel, cohort, kpis, sources.
Their definitions are in docs/reports.md."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, outerjoin
from sqlalchemy.sql import Subquery

from leadops.models import Account, Lead, Touch, User
from leadops.models.leads import TOUCH_STAGES
from leadops.reports.base import (
    N_,
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
from leadops.rules.segments import Columns, Segmentation, lead_columns, needs_account
from leadops.rules.service import active_rules

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
        N_(
            "Leads (not merged) per owner and status, now; the touch-stage section counts the "
            "same leads by stage."
        ),
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
        N_(
            "Leads created in the range, counted at each stage they reached by now (reaching a "
            "later stage counts for the earlier ones); conversion from the stage before and from "
            "all leads."
        ),
    )


def _segmentation(
    session: Session, params: ReportParams, m: Subquery
) -> tuple[Segmentation | None, Any, Any]:
    """The report's segment (``params.segment``): the segmentation, the SQL label of each
    milestone row's segment, and what to select from (the milestones, joined to their account when
    the segment reads it); (None, None, m) when the report is not broken down."""
    if params.segment is None:
        return None, None, m
    segmentation = Segmentation(active_rules(session, params.moment).document.segments, session)
    columns = Columns(
        title=m.c.title, department=m.c.department, prefecture=m.c.prefecture, custom=m.c.custom
    )
    source: Any = m
    if needs_account(params.segment):
        source = m.outerjoin(Account, Account.id == m.c.account_id)
        columns = replace(
            columns,
            industry=Account.industry,
            employees=Account.employees,
            account_prefecture=Account.prefecture,
        )
    return segmentation, segmentation.expression(params.segment, columns), source


SOURCE_MEASURES = [
    "leads",
    "valid_rate",
    "unique_companies",
    "mql_rate",
    "appointments",
    "appointment_rate",
    "won",
    "won_rate",
]


def _source_measures(
    n: int, valid: Any, companies: int, mql: int, appointments: int, won: int
) -> list[Any]:
    return [
        n,
        rate(valid or 0, n),
        companies,
        rate(mql, n),
        appointments,
        rate(appointments, n),
        won,
        rate(won, n),
    ]


@report(
    "sources",
    "per source: leads, valid-lead rate, unique companies, MQL, appointment and won rates",
)
def sources(session: Session, params: ReportParams) -> ReportResult:
    m = milestones()
    segmentation, segment, source = _segmentation(session, params, m)
    measures = (
        func.count(),
        count_if(m.c.is_valid),
        func.count(func.distinct(m.c.account_id)),
        func.count(m.c.mql_at),
        func.count(m.c.appointment_at),
        func.count(m.c.won_at),
    )
    keys = [m.c.source, *([segment] if segment is not None else [])]
    found = session.execute(
        select(*keys, *measures)
        .select_from(source)
        .where(*params.in_range(m.c.created_at))
        .group_by(*keys)
    ).all()
    width = len(keys)
    rows = [
        [r[0] if r[0] is not None else BLANK, *r[1:width], *_source_measures(*r[width:])]
        for r in found
    ]
    sections: dict[str, dict[str, Any]] = {}
    columns = ["source", *SOURCE_MEASURES]
    if segmentation is not None and params.segment is not None:
        order = {
            v: i for i, v in enumerate(segmentation.order(params.segment, (r[1] for r in rows)))
        }
        rows.sort(key=lambda r: (r[0], order[r[1]]))
        columns = ["source", params.segment, *SOURCE_MEASURES]
        totals = {
            r[0]: r[1:]
            for r in session.execute(
                select(segment, *measures)
                .select_from(source)
                .where(*params.in_range(m.c.created_at))
                .group_by(segment)
            )
        }
        sections["by_segment"] = {
            "columns": [params.segment, *SOURCE_MEASURES],
            "rows": [
                [label, *_source_measures(*totals[label])]
                for label in segmentation.order(params.segment, totals)
            ],
        }
    else:
        rows.sort(key=lambda r: r[0])
    return ReportResult(
        "sources",
        columns,
        rows,
        N_(
            "Leads created in the range by source (経路; a blank source is its own row, apart from "
            "'unknown'); rates are of those leads, counting outcomes reached by now. With a "
            "segment, one row per source and segment, and the by_segment table per segment."
        ),
        sections=sections,
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
        N_(
            "Leads created in the range, grouped by the period they were created in (the cohort); "
            "for each cohort, how many had their first appointment, or were won, in each later "
            "period, and the share of the cohort."
        ),
        anomalies=_won_anomalies(session, m, *in_range),
    )


@report(
    "kpis",
    "per period: new, valid, companies, MQL, SQL, touches, connects, appointments, won, velocity; "
    "quota attainment",
)
def kpis(session: Session, params: ReportParams) -> ReportResult:
    m = milestones()
    segmentation, segment, source = _segmentation(session, params, m)
    by_segment = [segment] if segment is not None else []
    cohort_mode = params.by == "cohort"
    Row = tuple[str, str | None]  # (period, segment)
    measures: dict[Row, Counter[str]] = defaultdict(Counter)
    won_amount: dict[Row, float] = defaultdict(float)
    velocity: dict[Row, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    companies: dict[Row, int] = {}

    def add(key: Any, part: str | None, name: str, count: int) -> str:
        label = period_of(key, params)
        for row in ((label, part), (TOTAL, part)):
            measures[row][name] += count
        return label

    def split(found: Any) -> tuple[Any, str | None, Any]:
        """(period key, segment, the rest) of a row grouped by period [and segment]."""
        return (
            (found[0], found[1], found[2:]) if segment is not None else (found[0], None, found[1:])
        )

    created = period_key(session, m.c.created_at, params)
    in_range = params.in_range(m.c.created_at)
    for found in session.execute(
        select(
            created,
            *by_segment,
            func.count(),
            count_if(m.c.is_valid),
            func.count(func.distinct(m.c.account_id)),
        )
        .select_from(source)
        .where(*in_range)
        .group_by(created, *by_segment)
    ):
        key, part, (n, valid, distinct_companies) = split(found)
        label = add(key, part, "new_leads", n)
        add(key, part, "valid_leads", int(valid or 0))
        companies[(label, part)] = distinct_companies
    for found in session.execute(
        select(*by_segment, func.count(func.distinct(m.c.account_id)))
        .select_from(source)
        .where(*in_range)
        .group_by(*by_segment)
    ):
        companies[(TOTAL, found[0] if segment is not None else None)] = found[-1]
    for stage in ("mql", "sql"):
        column = m.c[f"{stage}_at"]
        when = m.c.created_at if cohort_mode else column
        key_of = period_key(session, when, params)
        for found in session.execute(
            select(key_of, *by_segment, func.count())
            .select_from(source)
            .where(column.isnot(None), *params.in_range(when))
            .group_by(key_of, *by_segment)
        ):
            key, part, (n,) = split(found)
            add(key, part, stage, n)
    odd = case((won_anomalies(m), 1), else_=0)
    for name, kind, column in (
        ("appointments", "appointment", m.c.appointment_at),
        ("won", "won", m.c.won_at),
    ):
        when = m.c.created_at if cohort_mode else column
        for found in session.execute(
            select(
                period_key(session, when, params),
                *by_segment,
                m.c.created_at,
                column,
                m.c.won_amount,
                odd,
            )
            .select_from(source)
            .where(column.isnot(None), *params.in_range(when))
        ):
            key, part, (lead_created, at, amount, anomaly) = split(found)
            label = add(key, part, name, 1)
            for row in ((label, part), (TOTAL, part)):
                if name == "won":
                    won_amount[row] += float(amount or 0.0)
                if not anomaly:
                    velocity[row][kind].append(days_between(lead_created, at))
    touched = utc_moment(func.coalesce(Lead.created_at, Touch.at)) if cohort_mode else Touch.at
    key_of = period_key(session, touched, params)
    touch_segment: list[Any] = []
    touches: Any = Touch
    if segmentation is not None and params.segment is not None:
        touches = outerjoin(
            Touch, Lead, and_(Lead.id == Touch.lead_id, Lead.merged_into_id.is_(None))
        )
        account = None
        if needs_account(params.segment):
            touches = touches.outerjoin(Account, Account.id == Lead.account_id)
            account = Account
        touch_segment = [segmentation.expression(params.segment, lead_columns(account))]
    elif cohort_mode:
        touches = outerjoin(
            Touch, Lead, and_(Lead.id == Touch.lead_id, Lead.merged_into_id.is_(None))
        )
    for found in session.execute(
        select(
            key_of,
            *touch_segment,
            func.count(),
            count_if(Touch.outcome.in_(("connected", "replied"))),
        )
        .select_from(touches)
        .where(*params.in_range(touched))
        .group_by(key_of, *touch_segment)
    ):
        key, part, (n, connects) = split(found)
        add(key, part, "touches", n)
        add(key, part, "connects", int(connects or 0))
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
    periods = sorted({label for label, _ in measures if label != TOTAL})
    parts: list[str | None] = [None]
    if segmentation is not None and params.segment is not None:
        parts = list(segmentation.order(params.segment, (p for _, p in measures if p is not None)))
        columns.insert(1, params.segment)
    rows = []
    for label in [*periods, *([TOTAL] if measures else [])]:
        for part in parts:
            row = (label, part)
            if row not in measures:
                continue
            c, v = measures[row], velocity[row]
            rows.append(
                [
                    label,
                    *([part] if part is not None else []),
                    c["new_leads"],
                    c["valid_leads"],
                    companies.get(row, 0),
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
                    round(won_amount[row] / c["won"], 2) if c["won"] and won_amount[row] else None,
                ]
            )
    return ReportResult(
        "kpis",
        columns,
        rows,
        N_(
            "By period: each measure counted in the period it happened (by=period) or in the "
            "period its lead was acquired (by=cohort); the last row is the whole range. "
            "Conversion = won ÷ new leads of the row. Velocity in days from the lead's creation; "
            "a deal won before its lead's creation is counted but left out of velocity and listed "
            "as an anomaly. With a segment, one row per period and segment (of the lead; a touch "
            "without a lead is blank)."
        ),
        anomalies=_won_anomalies(session, m),
        sections={"attainment": attainment_section(session, params)},
    )
