"""First-time against returning leads (seed 000: リサイクルリード): how often a lead's first round
with sales ends in an appointment, and how often a recycled lead that came back (a ``reengaged``
event) does. Its definition is in docs/reports.md."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.models import Lead, LeadEvent, Opportunity
from leadops.reports.base import N_, ReportParams, ReportResult, days_between, median, rate, report

COLUMNS = [
    "period",
    "first_time_leads",
    "first_time_appointments",
    "first_time_appointment_rate",
    "reengaged",
    "reengaged_appointments",
    "reengaged_appointment_rate",
    "days_to_appointment_after_reengaged_median",
]


@report(
    "reengagement",
    "first-time against returning leads: appointments of new leads and of re-engaged recycled ones",
)
def reengagement(session: Session, params: ReportParams) -> ReportResult:
    live = Lead.merged_into_id.is_(None)
    returns: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for lead_id, at, reason in session.execute(
        select(LeadEvent.lead_id, LeadEvent.at, LeadEvent.reason)
        .join(Lead, Lead.id == LeadEvent.lead_id)
        .where(LeadEvent.kind == "reengaged", live)
        .order_by(LeadEvent.lead_id, LeadEvent.at, LeadEvent.id)
    ):
        returns[lead_id].append((at, reason or "(no reason)"))
    booked: dict[int, list[datetime]] = defaultdict(list)
    for opp_lead, opened in session.execute(
        select(Opportunity.lead_id, Opportunity.created_at)
        .where(Opportunity.lead_id.isnot(None))
        .order_by(Opportunity.lead_id, Opportunity.created_at)
    ):
        if opp_lead is not None:
            booked[opp_lead].append(opened)

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    waits: dict[str, list[float]] = defaultdict(list)
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    created = select(Lead.id, Lead.created_at).where(live, *params.in_range(Lead.created_at))
    for lead_id, at in session.execute(created):
        label = params.bucket(at)
        first_return = returns[lead_id][0][0] if returns.get(lead_id) else None
        counts[label]["first_time_leads"] += 1
        if any(b >= at and (first_return is None or b < first_return) for b in booked[lead_id]):
            counts[label]["first_time_appointments"] += 1
    for lead_id, rounds in returns.items():
        times = booked.get(lead_id, [])
        for index, (at, why) in enumerate(rounds):
            if not params.within(at):
                continue
            label = params.bucket(at)
            until = rounds[index + 1][0] if index + 1 < len(rounds) else None
            nxt = bisect_right(times, at)
            appointment = times[nxt] if nxt < len(times) else None
            if appointment is not None and until is not None and appointment >= until:
                appointment = None
            counts[label]["reengaged"] += 1
            reasons[why]["reengaged"] += 1
            if appointment is not None:
                counts[label]["reengaged_appointments"] += 1
                reasons[why]["appointments"] += 1
                waits[label].append(days_between(at, appointment))

    rows = []
    total: Counter[str] = Counter()
    every_wait: list[float] = []
    for label in sorted(counts):
        c = counts[label]
        total.update(c)
        every_wait += waits[label]
        rows.append(_row(label, c, waits[label]))
    if rows:
        rows.append(_row("total", total, every_wait))
    by_reason = [
        [why, c["reengaged"], c["appointments"], rate(c["appointments"], c["reengaged"])]
        for why, c in sorted(reasons.items(), key=lambda item: (-item[1]["reengaged"], item[0]))
    ]
    return ReportResult(
        "reengagement",
        COLUMNS,
        rows,
        N_(
            "First-time: the leads created in the period, and those whose first appointment (the "
            "first opportunity created after the lead) came before any re-engagement. Returning: "
            "each re-engagement in the period (a recycled lead that came back to sales, a "
            "`reengaged` event; a lead back twice counts twice), and those followed by an "
            "appointment before the lead's next re-engagement. Rates: appointments over leads."
        ),
        sections={
            "by_reason": {
                "columns": ["reason", "reengaged", "appointments", "appointment_rate"],
                "rows": by_reason,
            }
        },
    )


def _row(label: str, c: Counter[str], waits: list[float]) -> list[object]:
    return [
        label,
        c["first_time_leads"],
        c["first_time_appointments"],
        rate(c["first_time_appointments"], c["first_time_leads"]),
        c["reengaged"],
        c["reengaged_appointments"],
        rate(c["reengaged_appointments"], c["reengaged"]),
        median(waits),
    ]
