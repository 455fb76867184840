"""Campaigns over time (seed 004: 単月ごとの結果と、帯で経過を見ていった時の状態): each campaign's
results month by month since it started and by calendar month, with the running total, next to the
average of the campaigns of its type. Its definition is in docs/reports.md."""

from __future__ import annotations

import calendar
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from leadops.models import Campaign, CampaignMember, Lead, Opportunity
from leadops.reports.base import N_, ReportParams, ReportResult, report
from leadops.reports.facts import milestones, utc_moment

#: What a campaign's members went on to do, in this order.
RESULTS = ("leads", "mql", "sql", "appointments", "opportunities", "won")
#: The most months a campaign is followed for (ten years).
MAX_MONTHS = 120


def add_months(day: date, months: int) -> date:
    """``day`` that many months later, on the same day of the month or the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_since(start: date, day: date) -> int:
    """Which month since ``start`` ``day`` falls in: month 0 runs from ``start`` up to the same day
    a month later, month 1 the month after that, and so on; a day before the start is in month 0."""
    months = (day.year - start.year) * 12 + day.month - start.month
    if months > 0 and day < add_months(start, months):
        months -= 1
    return max(months, 0)


def _month_label(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def _months_between(first: date, last: date) -> list[str]:
    labels: list[str] = []
    at = first.replace(day=1)
    while at <= last and len(labels) < MAX_MONTHS:
        labels.append(_month_label(at))
        at = add_months(at, 1)
    return labels


def _campaigns(session: Session, params: ReportParams) -> dict[int, tuple[str, str, date]]:
    """The campaigns starting in the range: id → (name, type, first day: its start, else the day
    it was created)."""
    first = params.start.astimezone(params.tz).date() if params.start else None
    after_last = params.end.astimezone(params.tz).date() if params.end else None
    chosen = {}
    for cid, name, kind, starts, created in session.execute(
        select(Campaign.id, Campaign.name, Campaign.type, Campaign.starts_on, Campaign.created_at)
    ):
        day = starts if starts is not None else created.astimezone(params.tz).date()
        if (first is None or day >= first) and (after_last is None or day < after_last):
            chosen[cid] = (name, kind, day)
    return chosen


def _results(
    session: Session, params: ReportParams, ids: list[int]
) -> dict[int, list[tuple[str, datetime]]]:
    """Per campaign: (result, when) for each result of its members up to now. A member is a lead
    when it joined; its MQL, SQL, appointment (its first opportunity after joining) and won count
    when they happened at or after it joined; each opportunity created after joining counts."""
    found: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    if not ids:
        return found
    m = milestones()
    joined = CampaignMember.created_at
    later = and_(Opportunity.lead_id == CampaignMember.lead_id, Opportunity.created_at >= joined)
    first_after = (
        select(CampaignMember.id.label("member_id"), func.min(Opportunity.created_at).label("at"))
        .join(Opportunity, later)
        .where(CampaignMember.campaign_id.in_(ids))
        .group_by(CampaignMember.id)
        .subquery("first_after")
    )
    for cid, at, mql, sql, won, appointment in session.execute(
        select(
            CampaignMember.campaign_id,
            joined,
            m.c.mql_at,
            m.c.sql_at,
            m.c.won_at,
            utc_moment(first_after.c.at),
        )
        .join(m, m.c.id == CampaignMember.lead_id)
        .outerjoin(first_after, first_after.c.member_id == CampaignMember.id)
        .where(CampaignMember.campaign_id.in_(ids))
    ):
        found[cid].append(("leads", at))
        for result, when in (
            ("mql", mql),
            ("sql", sql),
            ("won", won),
            ("appointments", appointment),
        ):
            if when is not None and when >= at:
                found[cid].append((result, when))
    for cid, when in session.execute(
        select(CampaignMember.campaign_id, Opportunity.created_at)
        .join(Opportunity, later)
        .join(Lead, Lead.id == CampaignMember.lead_id)
        .where(CampaignMember.campaign_id.in_(ids), Lead.merged_into_id.is_(None))
    ):
        found[cid].append(("opportunities", when))
    now = params.moment
    return {cid: [(r, at) for r, at in items if at < now] for cid, items in found.items()}


def _running(counts: list[Counter[str]]) -> list[dict[str, int]]:
    totals: Counter[str] = Counter()
    out = []
    for month in counts:
        totals.update(month)
        out.append({r: totals[r] for r in RESULTS})
    return out


@report(
    "campaign-months",
    "per campaign: leads, MQLs, SQLs, appointments, opportunities, won by month since its start "
    "and by calendar month, cumulative, against its type's average",
)
def campaign_months(session: Session, params: ReportParams) -> ReportResult:
    chosen = _campaigns(session, params)
    results = _results(session, params, list(chosen))
    today = params.today()
    order = sorted(chosen, key=lambda cid: (chosen[cid][1], chosen[cid][2], chosen[cid][0]))
    by_month: dict[int, list[Counter[str]]] = {}
    by_calendar: dict[int, dict[str, Counter[str]]] = {}
    for cid in order:
        start = chosen[cid][2]
        items = results.get(cid, [])
        local = [(r, at.astimezone(params.tz).date()) for r, at in items]
        last = max([month_since(start, today), *(month_since(start, d) for _, d in local)])
        months = [Counter[str]() for _ in range(min(last, MAX_MONTHS - 1) + 1)]
        calendar_months: dict[str, Counter[str]] = {
            label: Counter()
            for label in _months_between(min([start, *(d for _, d in local)]), today)
        }
        for result, day in local:
            index = month_since(start, day)
            if index < len(months):
                months[index][result] += 1
            calendar_months.setdefault(_month_label(day), Counter())[result] += 1
        by_month[cid] = months
        by_calendar[cid] = calendar_months
    running = {cid: _running(by_month[cid]) for cid in order}
    # The type's average for month k: over the campaigns of that type whose month k has begun.
    peers: dict[tuple[str, int], list[int]] = defaultdict(list)
    for cid in order:
        for index in range(min(month_since(chosen[cid][2], today), len(by_month[cid]) - 1) + 1):
            peers[(chosen[cid][1], index)].append(cid)

    def average(values: list[float]) -> float | None:
        return round(statistics.fmean(values), 4) if values else None

    rows: list[list[Any]] = []
    against: list[list[Any]] = []
    for cid in order:
        name, kind, start = chosen[cid]
        for index, counts in enumerate(by_month[cid]):
            total = running[cid][index]
            rows.append(
                [
                    name,
                    kind,
                    start,
                    index,
                    add_months(start, index),
                    *(counts[r] for r in RESULTS),
                    *(total[r] for r in RESULTS),
                ]
            )
            group = peers.get((kind, index), [])
            for result in RESULTS:
                against.append(
                    [
                        name,
                        kind,
                        index,
                        result,
                        counts[result],
                        average([by_month[p][index][result] for p in group]),
                        total[result],
                        average([running[p][index][result] for p in group]),
                        len(group),
                    ]
                )
    calendar_rows: list[list[Any]] = []
    for cid in order:
        name, kind, _ = chosen[cid]
        totals: Counter[str] = Counter()
        for label in sorted(by_calendar[cid]):
            counts = by_calendar[cid][label]
            totals.update(counts)
            calendar_rows.append(
                [
                    name,
                    kind,
                    label,
                    *(counts[r] for r in RESULTS),
                    *(totals[r] for r in RESULTS),
                ]
            )
    cumulative = [f"cumulative_{r}" for r in RESULTS]
    return ReportResult(
        "campaign-months",
        ["campaign", "type", "starts_on", "month", "month_from", *RESULTS, *cumulative],
        rows,
        N_(
            "Campaigns starting in the range (their start date, else their creation), followed "
            "month by month up to now: month 0 runs from the start to the same day a month later, "
            "month 1 the month after (what happened before the start, such as registrations, "
            "counts in month 0). Leads: members joining; MQL, SQL, appointments (a member's first "
            "opportunity after joining), opportunities and won count when they happened, at or "
            "after the lead joined. cumulative_*: the running total. against_type_average puts "
            "each month next to the mean over the campaigns of the same type whose month it is "
            "(seed 004); calendar_months gives the same results by calendar month."
        ),
        sections={
            "against_type_average": {
                "columns": [
                    "campaign",
                    "type",
                    "month",
                    "result",
                    "value",
                    "type_average",
                    "cumulative",
                    "type_average_cumulative",
                    "campaigns_of_type",
                ],
                "rows": against,
            },
            "calendar_months": {
                "columns": ["campaign", "type", "month", *RESULTS, *cumulative],
                "rows": calendar_rows,
            },
        },
    )
