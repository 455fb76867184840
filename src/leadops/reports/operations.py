"""Reports an IS manager works from each morning: dwell, recycle-reasons, tasks, new-leads,
score-jumps. Their definitions are in docs/reports.md."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from leadops.errors import FieldError, ValidationFailed
from leadops.models import Lead, LeadEvent, Task, Touch, User
from leadops.reports.base import (
    N_,
    ReportParams,
    ReportResult,
    day_start,
    mean,
    median,
    rate,
    report,
)
from leadops.reports.facts import utc_moment
from leadops.rules.service import active_rules
from leadops.scoring.queries import score_jumps_between as jumps_between

UNASSIGNED = "(unassigned)"


def _emails(session: Session) -> dict[int, str]:
    return {
        uid: email or name or f"user {uid}"
        for uid, email, name in session.execute(select(User.id, User.email, User.name))
    }


def _created_in(params: ReportParams) -> list[Any]:
    return [Lead.merged_into_id.is_(None), *params.in_range(Lead.created_at)]


@report(
    "dwell",
    "days in the current status per lead; mean and median per status; leads past their deadline",
)
def dwell(session: Session, params: ReportParams) -> ReportResult:
    now = params.moment
    emails = _emails(session)
    since = utc_moment(func.coalesce(Lead.status_changed_at, Lead.created_at))
    rows = (
        session.connection()
        .execute(
            select(
                Lead.id,
                Lead.email,
                Lead.owner_id,
                Lead.status,
                Lead.touch_stage,
                since,
                Lead.next_due_at,
            )
            .where(*_created_in(params))
            .order_by(Lead.id)
        )
        .all()
    )
    per_status: dict[str, list[float]] = defaultdict(list)
    stale_per_status: Counter[str] = Counter()
    leads: list[list[Any]] = []
    stale: list[list[Any]] = []
    who = {owner: emails.get(owner, UNASSIGNED) for owner in {r[2] for r in rows} if owner}
    for lead_id, email, owner, status, stage, entered, due in rows:
        days = round(max((now - entered).total_seconds() / 86400, 0.0), 2)
        per_status[status].append(days)
        person = who[owner] if owner else UNASSIGNED
        leads.append([lead_id, email, person, status, stage, entered, days])
        if due is not None and due < now:
            stale_per_status[status] += 1
            stale.append(
                [
                    lead_id,
                    email,
                    person,
                    status,
                    stage,
                    due,
                    round((now - due).total_seconds() / 3600, 1),
                ]
            )
    stale.sort(key=lambda r: (-r[6], r[0]))
    summary = [
        [status, len(values), mean(values), median(values), max(values), stale_per_status[status]]
        for status, values in sorted(per_status.items())
    ]
    return ReportResult(
        "dwell",
        ["status", "leads", "mean_days", "median_days", "max_days", "past_deadline"],
        summary,
        N_(
            "Leads (created in the range, not merged) by current status: days since they entered "
            "it (the last status change, else creation) up to now. Past deadline: the cadence's "
            "next deadline (first touch, next touch or reply) has passed without the touch."
        ),
        sections={
            "past_deadline": {
                "columns": [
                    "lead_id",
                    "email",
                    "owner",
                    "status",
                    "touch_stage",
                    "due_at",
                    "hours_overdue",
                ],
                "rows": stale,
            },
            "leads": {
                "columns": ["lead_id", "email", "owner", "status", "touch_stage", "since", "days"],
                "rows": leads,
            },
        },
    )


@report("recycle-reasons", "leads sent to recycled: from which status and touch stage, and why")
def recycle_reasons(session: Session, params: ReportParams) -> ReportResult:
    # The touch stage just before the move: the lead's last touch_stage event up to then (lead/time
    # index).
    before = aliased(LeadEvent)
    stage_then = (
        select(before.to_value)
        .where(
            before.lead_id == LeadEvent.lead_id,
            before.kind == "touch_stage",
            before.at <= LeadEvent.at,
        )
        .order_by(before.at.desc(), before.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    recycled = session.execute(
        select(
            LeadEvent.lead_id,
            LeadEvent.at,
            LeadEvent.from_value,
            LeadEvent.reason,
            Lead.created_at,
            stage_then,
        )
        .join(Lead, Lead.id == LeadEvent.lead_id)
        .where(
            LeadEvent.kind == "status",
            LeadEvent.to_value == "recycled",
            Lead.merged_into_id.is_(None),
        )
    ).all()
    cohort_mode = params.by == "cohort"
    chosen = [r for r in recycled if params.within(r[4] if cohort_mode else r[1])]
    cells: Counter[tuple[str, str, str, str]] = Counter()
    totals: Counter[str] = Counter()
    for _, at, from_status, reason, created, stage in chosen:
        label = params.bucket(created if cohort_mode else at)
        cells[(label, reason or "(no reason)", from_status or "(none)", stage or "untouched")] += 1
        totals[label] += 1
    rows = [
        [label, reason, status, stage, count, rate(count, totals[label])]
        for (label, reason, status, stage), count in sorted(cells.items())
    ]
    by_reason: Counter[str] = Counter()
    for (_, reason, _, _), count in cells.items():
        by_reason[reason] += count
    everything = sum(by_reason.values())
    return ReportResult(
        "recycle-reasons",
        ["period", "reason", "from_status", "from_touch_stage", "leads", "share"],
        rows,
        N_(
            "Every move to the recycled status (a status event) in the range, by the period it "
            "happened in (by=period) or the period its lead was acquired (by=cohort): the reason "
            "given, the status it left and the touch stage the lead had reached then. A lead "
            "recycled twice counts twice. Share: of the period's recycles."
        ),
        sections={
            "by_reason": {
                "columns": ["reason", "leads", "share"],
                "rows": [[r, n, rate(n, everything)] for r, n in by_reason.most_common()],
            }
        },
    )


@report(
    "tasks",
    "per owner: open, done and overdue tasks, SLA compliance, median hours to the first touch",
)
def tasks(session: Session, params: ReportParams) -> ReportResult:
    now = params.moment
    emails = _emails(session)
    per_owner: dict[str, Counter[str]] = defaultdict(Counter)
    for owner_id, state, due, completed in session.execute(
        select(Task.owner_id, Task.state, Task.due_at, Task.completed_at).where(
            *params.in_range(Task.created_at)
        )
    ):
        counts = per_owner[emails.get(owner_id, UNASSIGNED) if owner_id else UNASSIGNED]
        counts[state] += 1
        if state == "open" and due is not None and due < now:
            counts["overdue"] += 1
        if state == "done":
            counts[
                "on_time" if due is None or completed is None or completed <= due else "late"
            ] += 1
    # Speed to lead: hours from a lead's creation to its first touch, credited to whoever made that
    # touch.
    first = (
        select(Touch.lead_id, func.min(Touch.at).label("first_at"))
        .group_by(Touch.lead_id)
        .subquery()
    )
    touch_rows = session.execute(
        select(Touch.user_id, Lead.created_at, first.c.first_at)
        .join(first, (first.c.lead_id == Touch.lead_id) & (first.c.first_at == Touch.at))
        .join(Lead, Lead.id == Touch.lead_id)
        .where(*_created_in(params))
    ).all()
    speed: dict[str, list[float]] = defaultdict(list)
    for user, created, first_at in touch_rows:
        speed[emails.get(user, UNASSIGNED) if user else UNASSIGNED].append(
            max((first_at - created).total_seconds() / 3600, 0.0)
        )
    rows = []
    for owner in sorted(set(per_owner) | set(speed)):
        c = per_owner[owner]
        judged = c["done"] + c["overdue"]
        hours = speed.get(owner, [])
        rows.append(
            [
                owner,
                c["open"],
                c["done"],
                c["cancelled"],
                c["overdue"],
                c["on_time"],
                c["late"],
                rate(c["on_time"], judged),
                round(statistics.median(hours), 1) if hours else None,
                len(hours),
            ]
        )
    return ReportResult(
        "tasks",
        [
            "owner",
            "open",
            "done",
            "cancelled",
            "overdue",
            "done_on_time",
            "done_late",
            "sla_compliance",
            "first_touch_hours_median",
            "first_touches",
        ],
        rows,
        N_(
            "Tasks (approach requests) created in the range, by their owner. Overdue: open past "
            "its due time now. SLA compliance: done by the due time ÷ (done + overdue); cancelled "
            "and open-not-yet-due tasks are not judged. First touch: hours from a lead's creation "
            "(leads created in the range) to its first touch, credited to the person who made it "
            "(median, and how many leads)."
        ),
    )


@report("new-leads", "created today by source, this week by score band, this month by status")
def new_leads(session: Session, params: ReportParams) -> ReportResult:
    today = params.today()
    week_start = today - timedelta(days=today.weekday())
    windows = [
        ("today", day_start(today, params.tz), "source"),
        ("this_week", day_start(week_start, params.tz), "score_band"),
        ("this_month", day_start(today.replace(day=1), params.tz), "status"),
    ]
    earliest = min(start for _, start, _ in windows)
    end = day_start(today + timedelta(days=1), params.tz)
    leads = session.execute(
        select(
            Lead.id, Lead.email, Lead.company, Lead.source, Lead.score, Lead.status, Lead.created_at
        )
        .where(Lead.merged_into_id.is_(None), Lead.created_at >= earliest, Lead.created_at < end)
        .order_by(Lead.created_at, Lead.id)
    ).all()
    rules = active_rules(session, params.moment)
    labels: dict[str, str] = {}
    low: float = 0
    for item in rules.document.temperature.bands:  # "warm (40–99)": the band with its scores
        if rules.document.temperature.field != "score":  # bands of a probability: no scores
            labels[item.name] = item.name
        elif item.below is not None:
            labels[item.name] = f"{item.name} ({low:g}–{item.below - 1:g})"
        else:
            labels[item.name] = f"{item.name} ({low:g}+)"
        low = item.below if item.below is not None else low

    def band(score: int) -> str:
        return labels[rules.temperature(score)]

    rows: list[list[Any]] = []
    sections: dict[str, dict[str, Any]] = {}
    for window, start, dimension in windows:
        chosen = [r for r in leads if r[6] >= start]
        group = {
            "source": lambda r: r[3] or "(blank)",
            "score_band": lambda r: band(r[4]),
            "status": lambda r: r[5],
        }[dimension]
        counts = Counter(group(r) for r in chosen)
        rows.extend([window, dimension, value, count] for value, count in sorted(counts.items()))
        listed = (
            sorted(chosen, key=lambda r: (-r[4], r[0]))
            if dimension == "score_band"
            else sorted(chosen, key=lambda r: (group(r), r[6], r[0]))
        )
        sections[window] = {
            "columns": ["lead_id", "email", "company", dimension, "score", "created_at"],
            "rows": [[r[0], r[1], r[2], group(r), r[4], r[6]] for r in listed],
        }
    return ReportResult(
        "new-leads",
        ["window", "by", "value", "leads"],
        rows,
        N_(
            "Leads created today, this week (from Monday) and this month, up to now in the "
            "configured time zone: today's by source, this week's by score band (the rules' "
            "temperature bands), this month's by current status; each window also lists its leads "
            "(this week's highest score first). --from/--to do not apply."
        ),
        sections=sections,
    )


@report(
    "score-jumps",
    "leads whose score rose by at least N (default 10) since the previous day, by date and status",
)
def score_jumps(session: Session, params: ReportParams) -> ReportResult:
    today = params.today()
    last = (
        (params.end - timedelta(microseconds=1)).astimezone(params.tz).date()
        if params.end
        else today
    )
    first = params.start.astimezone(params.tz).date() if params.start else last - timedelta(days=6)
    if (last - first).days > 366:
        raise ValidationFailed(
            [FieldError("from", "score-jumps covers at most a year of days at a time")]
        )
    rules = active_rules(session, params.moment)
    found = jumps_between(session, rules, first, last, params.tz, min_rise=params.threshold)
    rows = [
        [day.isoformat(), j.status, j.lead_id, j.email, j.rise, j.score]
        for day in sorted(found, reverse=True)
        for j in found[day]
    ]
    per_day_status = Counter((r[0], r[1]) for r in rows)
    return ReportResult(
        "score-jumps",
        ["date", "status", "lead_id", "email", "rise", "score_now"],
        rows,
        "For each day of the range (default: the last 7 days up to today), leads whose score rose "
        "by at least "
        f"{params.threshold} points during that day (since the end of the previous day), from the "
        "score ledger of "
        "the active rules version, days in the configured time zone; newest day first, biggest "
        "rise first. "
        "Status is the lead's status now.",
        sections={
            "by_date_status": {
                "columns": ["date", "status", "leads"],
                "rows": [[d, s, n] for (d, s), n in sorted(per_day_status.items(), reverse=True)],
            }
        },
    )
