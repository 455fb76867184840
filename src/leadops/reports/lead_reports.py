"""Reports over leads and their outcomes: status-board, funnel, cohort, kpis, sources.
Their definitions are in docs/reports.md."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.models import Lead, Touch, User
from leadops.models.leads import TOUCH_STAGES
from leadops.reports.base import ReportParams, ReportResult, days_between, mean, median, rate, report, sorted_labels
from leadops.reports.facts import LeadFacts, lead_facts

BLANK = "(blank)"
TOTAL = "total"


def _won_anomalies(leads: dict[int, LeadFacts]) -> tuple[set[int], list[dict[str, Any]]]:
    """Leads won before they were acquired: kept in counts, left out of durations, listed."""
    odd = {f.id for f in leads.values() if f.won_at is not None and f.won_at < f.created_at}
    listed = [{"lead_id": i, "anomaly": "won_before_first_contact", "created_at": leads[i].created_at,
               "won_at": leads[i].won_at} for i in sorted(odd)]  # fmt: skip
    return odd, listed


@report("status-board", "open leads per member × status and × touch stage")
def status_board(session: Session, params: ReportParams) -> ReportResult:
    owner = func.coalesce(User.email, "(unassigned)")
    rows = session.execute(
        select(owner, Lead.status, Lead.touch_stage, func.count()).outerjoin(User, User.id == Lead.owner_id)
        .where(Lead.merged_into_id.is_(None)).group_by(owner, Lead.status, Lead.touch_stage)
    ).all()  # fmt: skip
    statuses = sorted_labels(r[1] for r in rows)
    by_status: dict[str, Counter[str]] = defaultdict(Counter)
    by_stage: dict[str, Counter[str]] = defaultdict(Counter)
    for member, status, stage, count in rows:
        by_status[member][status] += count
        by_stage[member][stage] += count
    members = sorted(by_status)
    return ReportResult(
        "status-board", ["member", *statuses, "total"],
        [[m, *(by_status[m][s] for s in statuses), sum(by_status[m].values())] for m in members],
        "Leads (not merged) per owner and status, now; the touch-stage section counts the same leads by stage.",
        sections={"touch_stage": {"columns": ["member", *TOUCH_STAGES],
                                  "rows": [[m, *(by_stage[m][s] for s in TOUCH_STAGES)] for m in members]}},
    )  # fmt: skip


@report("funnel", "leads acquired in the range: how many reached each stage, and the conversion between stages")
def funnel(session: Session, params: ReportParams) -> ReportResult:
    leads = [f for f in lead_facts(session).values() if params.within(f.created_at)]
    steps = [("leads", len(leads)), ("mql", sum(1 for f in leads if "mql" in f.reached)),
             ("sql", sum(1 for f in leads if "sql" in f.reached)),
             ("appointment", sum(1 for f in leads if f.appointment_at is not None)),
             ("won", sum(1 for f in leads if f.won_at is not None))]  # fmt: skip
    rows = []
    for index, (step, count) in enumerate(steps):
        previous = steps[index - 1][1] if index else count
        rows.append([step, count, rate(count, previous), rate(count, steps[0][1])])
    return ReportResult(
        "funnel", ["stage", "leads", "from_previous", "from_first"], rows,
        "Leads created in the range, counted at each stage they reached by now (reaching a later stage counts "
        "for the earlier ones); conversion from the stage before and from all leads.",
    )  # fmt: skip


@report("sources", "per source: leads, valid-lead rate, unique companies, MQL, appointment and won rates")
def sources(session: Session, params: ReportParams) -> ReportResult:
    groups: dict[str, list[LeadFacts]] = defaultdict(list)
    for f in lead_facts(session).values():
        if params.within(f.created_at):
            groups[f.source if f.source is not None else BLANK].append(f)
    rows = []
    for source in sorted(groups):
        leads = groups[source]
        n = len(leads)
        won = sum(1 for f in leads if f.won_at is not None)
        appointments = sum(1 for f in leads if f.appointment_at is not None)
        rows.append([
            source, n, rate(sum(f.is_valid for f in leads), n), len({f.account_id for f in leads if f.account_id}),
            rate(sum("mql" in f.reached for f in leads), n), appointments, rate(appointments, n), won, rate(won, n),
        ])  # fmt: skip
    return ReportResult(
        "sources",
        ["source", "leads", "valid_rate", "unique_companies", "mql_rate", "appointments", "appointment_rate", "won",
         "won_rate"], rows,
        "Leads created in the range by source (経路; a blank source is its own row, apart from 'unknown'); rates "
        "are of those leads, counting outcomes reached by now.",
    )  # fmt: skip


@report("cohort", "acquisition period × outcome period: appointments and won, counts and rates")
def cohort(session: Session, params: ReportParams) -> ReportResult:
    leads = [f for f in lead_facts(session).values() if params.within(f.created_at)]
    sizes = Counter(params.bucket(f.created_at) for f in leads)
    cells: Counter[tuple[str, str, str]] = Counter()
    for f in leads:
        group = params.bucket(f.created_at)
        if f.appointment_at is not None:
            cells[(group, "appointment", params.bucket(f.appointment_at))] += 1
        if f.won_at is not None:
            cells[(group, "won", params.bucket(f.won_at))] += 1
    rows = [[group, sizes[group], outcome, when, count, rate(count, sizes[group])]
            for (group, outcome, when), count in sorted(cells.items())]  # fmt: skip
    _, anomalies = _won_anomalies({f.id: f for f in leads})
    return ReportResult(
        "cohort", ["cohort", "cohort_leads", "outcome", "outcome_period", "count", "rate"], rows,
        "Leads created in the range, grouped by the period they were created in (the cohort); for each cohort, "
        "how many had their first appointment, or were won, in each later period, and the share of the cohort.",
        anomalies=anomalies,
    )  # fmt: skip


@report("kpis", "per period: new, valid, companies, MQL, SQL, touches, connects, appointments, won, velocity")
def kpis(session: Session, params: ReportParams) -> ReportResult:
    facts = lead_facts(session)
    odd, anomalies = _won_anomalies(facts)
    cohort_mode = params.by == "cohort"
    measures: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    velocity: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    companies: dict[str, set[int]] = defaultdict(set)

    def count(at: Any, f: LeadFacts, name: str, amount: float | None = None) -> str | None:
        when = f.created_at if cohort_mode else at
        if not params.within(when):
            return None
        label = params.bucket(when)
        for key in (label, TOTAL):
            measures[key][name] += 1
            if amount is not None:
                measures[key]["won_amount"] += amount
        return label

    for f in facts.values():
        label = count(f.created_at, f, "new_leads")
        for key in (label, TOTAL) if label is not None else ():
            if f.is_valid:
                measures[key]["valid_leads"] += 1
            if f.account_id:
                companies[key].add(f.account_id)
        for stage in ("mql", "sql"):
            if stage in f.reached:
                count(f.reached[stage], f, stage)
        if f.appointment_at is not None:
            label = count(f.appointment_at, f, "appointments")
            if label is not None and f.id not in odd:
                for key in (label, TOTAL):
                    velocity[key]["appointment"].append(days_between(f.created_at, f.appointment_at))
        if f.won_at is not None:
            label = count(f.won_at, f, "won", f.won_amount or 0.0)
            if label is not None and f.id not in odd:
                for key in (label, TOTAL):
                    velocity[key]["won"].append(days_between(f.created_at, f.won_at))
    touches = session.execute(select(Touch.at, Touch.outcome, Touch.lead_id))
    for at, outcome, lead_id in touches:
        lead = facts.get(lead_id)
        when = lead.created_at if cohort_mode and lead is not None else at
        if params.within(when):
            for key in (params.bucket(when), TOTAL):
                measures[key]["touches"] += 1
                if outcome in ("connected", "replied"):
                    measures[key]["connects"] += 1
    columns = ["period", "new_leads", "valid_leads", "unique_companies", "mql", "sql", "touches", "connects",
               "appointments", "won", "conversion_rate", "days_to_appointment_median", "days_to_won_median",
               "days_to_won_mean", "average_deal_size"]  # fmt: skip
    rows = []
    for label in [*sorted(k for k in measures if k != TOTAL), *([TOTAL] if measures else [])]:
        m, v = measures[label], velocity[label]
        rows.append([label, m["new_leads"], m["valid_leads"], len(companies[label]), m["mql"], m["sql"], m["touches"],
                     m["connects"], m["appointments"], m["won"], rate(m["won"], m["new_leads"]),
                     median(v["appointment"]), median(v["won"]), mean(v["won"]),
                     round(m["won_amount"] / m["won"], 2) if m["won"] and m["won_amount"] else None])  # fmt: skip
    return ReportResult(
        "kpis", columns, rows,
        "By period: each measure counted in the period it happened (by=period) or in the period its lead was "
        "acquired (by=cohort); the last row is the whole range. Conversion = won ÷ new leads of the row. "
        "Velocity in days from the lead's "
        "creation; a deal won before its lead's creation is counted but left out of velocity and listed as an "
        "anomaly.",
        notes=["quota attainment needs quotas, which leadops does not hold yet"], anomalies=anomalies,
    )  # fmt: skip
