"""Reports over opportunities and campaigns: pipeline (seed 003) and campaigns against their type's
average (seed 004). Their definitions are in docs/reports.md."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from leadops.models import Campaign, CampaignMember, Opportunity
from leadops.models.opportunities import CLOSED_STAGES
from leadops.reports.base import (
    N_,
    ReportParams,
    ReportResult,
    days_between,
    mean,
    median,
    rate,
    report,
)
from leadops.reports.facts import count_if, milestones
from leadops.rules.service import active_rules

#: A deal imported without any date: its age in a stage is unknown, so it stays out of the day
#: figures.
UNDATED = "missing_created_at"


@report(
    "pipeline",
    "opportunities per stage: count, amount, days in stage; the bottleneck stage flagged",
)
def pipeline(session: Session, params: ReportParams) -> ReportResult:
    now = params.moment
    count: Counter[str] = Counter()
    amount: dict[str, float] = defaultdict(float)
    in_stage: dict[str, list[float]] = defaultdict(list)
    to_close: dict[str, list[float]] = defaultdict(list)
    undated: Counter[str] = Counter()
    for stage, value, created, entered, closed, flags in session.execute(
        select(
            Opportunity.stage,
            Opportunity.amount,
            Opportunity.created_at,
            Opportunity.stage_changed_at,
            Opportunity.closed_at,
            Opportunity.flags,
        ).where(*params.in_range(Opportunity.created_at))
    ):
        count[stage] += 1
        amount[stage] += value or 0.0
        if UNDATED in (flags or []):
            undated[stage] += 1
        elif stage in CLOSED_STAGES:
            to_close[stage].append(days_between(created, closed or entered))
        else:
            in_stage[stage].append(days_between(entered, now))
    order = active_rules(session, now).document.pipeline.stages
    stages = [s for s in order if s in count or s not in CLOSED_STAGES] + sorted(
        s for s in count if s not in order
    )
    open_means = {s: statistics.fmean(v) for s, v in in_stage.items() if v}
    bottleneck = max(open_means, key=lambda s: (open_means[s], count[s])) if open_means else None
    rows = [
        [
            stage,
            count[stage],
            round(amount[stage], 2),
            mean(in_stage[stage]),
            median(in_stage[stage]),
            mean(to_close[stage]),
            undated[stage],
            stage == bottleneck,
        ]
        for stage in stages
    ]
    won, lost = count["won"], count["lost"]
    open_count = sum(count[s] for s in count if s not in CLOSED_STAGES)
    open_amount = sum(amount[s] for s in count if s not in CLOSED_STAGES)
    return ReportResult(
        "pipeline",
        [
            "stage",
            "opportunities",
            "amount",
            "mean_days_in_stage",
            "median_days_in_stage",
            "mean_days_to_close",
            "undated",
            "bottleneck",
        ],
        rows,
        N_(
            "Opportunities created in the range, by the stage they are in now, in the order of "
            "the rules' pipeline. Open stages: days since each entered its current stage, up to "
            "now. Won and lost: days from creation to close. Amount: the sum of the amounts (none "
            "counts as 0). Undated: imported without any date, so left out of the day figures. "
            "Bottleneck: the open stage whose opportunities have waited longest on average."
        ),
        notes=[
            f"win rate (won ÷ closed): {rate(won, won + lost)}",
            f"open opportunities: {open_count}, amount {round(open_amount, 2)}",
        ],
    )


MEASURES = (
    "members",
    "responses",
    "mql",
    "appointments",
    "opportunities",
    "won",
    "response_rate",
    "mql_rate",
    "appointment_rate",
    "won_rate",
    "cost_per_response",
    "cost_per_mql",
    "cost_per_appointment",
    "cost_per_won",
)


RATE_OF = {
    "responses": "response_rate",
    "mql": "mql_rate",
    "appointments": "appointment_rate",
    "won": "won_rate",
}
COST_PER = {
    "responses": "cost_per_response",
    "mql": "cost_per_mql",
    "appointments": "cost_per_appointment",
    "won": "cost_per_won",
}


def _in_range(params: ReportParams, starts: date | None, created: Any) -> bool:
    when = starts if starts is not None else created.astimezone(params.tz).date()
    first = params.start.astimezone(params.tz).date() if params.start else None
    after_last = params.end.astimezone(params.tz).date() if params.end else None
    return (first is None or when >= first) and (after_last is None or when < after_last)


@report(
    "campaigns",
    "per campaign: members, responses, MQLs, appointments, won, cost per result; "
    "vs its type's mean",
)
def campaigns(session: Session, params: ReportParams) -> ReportResult:
    chosen = {
        cid: (name, kind, cost)
        for cid, name, kind, cost, starts, created in session.execute(
            select(
                Campaign.id,
                Campaign.name,
                Campaign.type,
                Campaign.cost,
                Campaign.starts_on,
                Campaign.created_at,
            )
        )
        if _in_range(params, starts, created)
    }
    m = milestones()
    joined = CampaignMember.created_at
    later = (  # per member: its lead's opportunities created at or after it joined
        select(CampaignMember.id.label("member_id"), func.count().label("n"))
        .join(
            Opportunity,
            and_(Opportunity.lead_id == CampaignMember.lead_id, Opportunity.created_at >= joined),
        )
        .group_by(CampaignMember.id)
        .subquery("later")
    )
    members = (
        select(
            CampaignMember.campaign_id,
            CampaignMember.first_responded_at.label("responded"),
            case((m.c.mql_at >= joined, 1), else_=0).label("mql"),
            case((m.c.won_at >= joined, 1), else_=0).label("won"),
            func.coalesce(later.c.n, 0).label("opportunities"),
        )
        .join(m, m.c.id == CampaignMember.lead_id)
        .outerjoin(later, later.c.member_id == CampaignMember.id)
        .where(CampaignMember.campaign_id.in_(list(chosen)))
        .subquery("members")
    )
    counts: dict[int, Counter[str]] = {cid: Counter() for cid in chosen}
    for cid, n, responses, mql, appointments, opportunities, won in session.execute(
        select(
            members.c.campaign_id,
            func.count(),
            func.count(members.c.responded),
            func.sum(members.c.mql),
            count_if(members.c.opportunities > 0),
            func.sum(members.c.opportunities),
            func.sum(members.c.won),
        ).group_by(members.c.campaign_id)
    ):
        counts[cid].update(
            {
                "members": n,
                "responses": responses,
                "mql": int(mql or 0),
                "appointments": int(appointments or 0),
                "opportunities": int(opportunities or 0),
                "won": int(won or 0),
            }
        )
    values: dict[int, dict[str, float | None]] = {}
    for cid, c in counts.items():
        cost = chosen[cid][2]
        per = {
            m: c[m] for m in ("members", "responses", "mql", "appointments", "opportunities", "won")
        }
        values[cid] = {
            **per,
            **{name: rate(c[result], c["members"]) for result, name in RATE_OF.items()},
            **{
                name: round(cost / c[result], 2) if cost is not None and c[result] else None
                for result, name in COST_PER.items()
            },
        }
    by_type: dict[str, list[int]] = defaultdict(list)
    for cid, (_, kind, _) in chosen.items():
        by_type[kind].append(cid)
    order = sorted(chosen, key=lambda cid: (chosen[cid][1], chosen[cid][0]))
    rows = [
        [chosen[cid][0], chosen[cid][1], chosen[cid][2], *(values[cid][m] for m in MEASURES)]
        for cid in order
    ]
    against = []
    for cid in order:
        name, kind, _ = chosen[cid]
        peers = by_type[kind]
        for measure in MEASURES:
            present = [v for p in peers if (v := values[p][measure]) is not None]
            average = round(statistics.fmean(present), 4) if present else None
            value = values[cid][measure]
            difference = (
                round(value - average, 4) if value is not None and average is not None else None
            )
            against.append([name, kind, len(peers), measure, value, average, difference])
    return ReportResult(
        "campaigns",
        ["campaign", "type", "cost", *MEASURES],
        rows,
        N_(
            "Campaigns starting in the range (their start date, else their creation). Members: "
            "leads in the campaign; responses: members with a first response; MQL, appointments "
            "(leads with an opportunity), opportunities and won count only what happened at or "
            "after the lead joined the campaign, up to now. Rates are of members; cost per result "
            "= cost ÷ that result. The section compares each measure with the mean over the "
            "campaigns of the same type in the range (seed 004: each seminar against the average "
            "of all seminars)."
        ),
        sections={
            "against_type_average": {
                "columns": [
                    "campaign",
                    "type",
                    "campaigns_of_type",
                    "measure",
                    "value",
                    "type_average",
                    "difference",
                ],
                "rows": against,
            }
        },
    )
