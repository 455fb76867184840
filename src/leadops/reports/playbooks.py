"""connect-patterns: which template or script, on which channel, at which touch stage, is followed
by a connect or an appointment (seed 000: 担当者接触になるまでの成功アクションを型化 — which script
and e-mail reached the person). The definition is in docs/reports.md."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.lifecycle.machine import CONNECTING
from leadops.models import LeadEvent, Opportunity, Touch
from leadops.reports.base import N_, ReportParams, ReportResult, rate, report
from leadops.rules.schema import PLAYBOOK_STAGES

NO_TEMPLATE = "(none)"
NO_STAGE = "(unknown)"
COUNTS = ["touches", "connects", "connect_rate", "appointments", "appointment_rate"]
DEFINITION = N_(
    "Touches made in the range, per template (or script) × channel × touch stage, "
    "and how many of them were followed by a connect and by an appointment: on the "
    "same lead, from the touch up to (not including) the lead's next touch — without "
    "end for its last touch. A connect: the touch's own outcome is connected or "
    "replied, or the lead's touch stage became connected in that window; an "
    "appointment: the lead's first opportunity was created in that window. Each "
    "touch counts at most once for each; rates are per touch."
)


def _stage_order(stage: str) -> int:
    order = (*PLAYBOOK_STAGES, "connected")
    return order.index(stage) if stage in order else len(order)


@report(
    "connect-patterns",
    "touches per template, channel and stage, and the connects and appointments that followed",
)
def connect_patterns(session: Session, params: ReportParams) -> ReportResult:
    # The leads touched in the range (every lead's touches are read: the next touch may be later).
    ranged = params.start is not None or params.end is not None
    touched = select(Touch.lead_id).where(*params.in_range(Touch.at)).distinct()
    of_leads = [Touch.lead_id.in_(touched)] if ranged else []
    connection = session.connection()
    touches: dict[int, list[tuple[datetime, int, str, str | None, str | None, str]]] = defaultdict(
        list
    )
    for touch_id, lead_id, at, channel, template, stage, outcome in connection.execute(
        select(
            Touch.id,
            Touch.lead_id,
            Touch.at,
            Touch.channel,
            Touch.template,
            Touch.stage,
            Touch.outcome,
        )
        .where(*of_leads)
        .order_by(Touch.lead_id, Touch.at, Touch.id)
    ):
        touches[lead_id].append((at, touch_id, channel, template, stage, outcome))
    connects: dict[int, list[datetime]] = defaultdict(list)
    for lead_id, at in connection.execute(
        select(LeadEvent.lead_id, LeadEvent.at)
        .where(
            *([LeadEvent.lead_id.in_(touched)] if ranged else []),
            LeadEvent.kind == "touch_stage",
            LeadEvent.to_value == "connected",
        )
        .order_by(LeadEvent.lead_id, LeadEvent.at)
    ):
        connects[lead_id].append(at)
    appointments = dict(
        connection.execute(
            select(Opportunity.lead_id, func.min(Opportunity.created_at))
            .where(*([Opportunity.lead_id.in_(touched)] if ranged else []))
            .group_by(Opportunity.lead_id)
        ).all()
    )

    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for lead_id, rows in touches.items():
        moments = connects.get(lead_id, [])
        booked = appointments.get(lead_id)
        for index, (at, _, channel, template, stage, outcome) in enumerate(rows):
            if not params.within(at):
                continue
            until = rows[index + 1][0] if index + 1 < len(rows) else None
            first = bisect_left(moments, at)
            connected = outcome in CONNECTING or (
                first < len(moments) and (until is None or moments[first] < until)
            )
            appointment = booked is not None and at <= booked and (until is None or booked < until)
            key = (template or NO_TEMPLATE, channel, stage or NO_STAGE)
            counts[key][0] += 1
            counts[key][1] += int(connected)
            counts[key][2] += int(appointment)

    def measures(n: int, connected: int, booked: int) -> list[Any]:
        return [n, connected, rate(connected, n), booked, rate(booked, n)]

    keys = sorted(counts, key=lambda k: (_stage_order(k[2]), k[2], k[0], k[1]))
    rows_out = [[*key, *measures(*counts[key])] for key in keys]
    per_stage: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (_, _, stage), numbers in counts.items():
        for i, value in enumerate(numbers):
            per_stage[stage][i] += value
    totals = [sum(c[i] for c in counts.values()) for i in range(3)]
    if rows_out:
        rows_out.append(["total", None, None, *measures(*totals)])
    return ReportResult(
        name="connect-patterns",
        columns=["template", "channel", "stage", *COUNTS],
        rows=rows_out,
        definition=DEFINITION,
        notes=[
            f"{NO_TEMPLATE}: touches logged without a template (before playbooks, or at a stage "
            f"without one); {NO_STAGE}: touches logged before the stage was kept."
        ],
        sections={
            "by_stage": {
                "columns": ["stage", *COUNTS],
                "rows": [
                    [stage, *measures(*per_stage[stage])]
                    for stage in sorted(per_stage, key=lambda s: (_stage_order(s), s))
                ],
            }
        },
    )
