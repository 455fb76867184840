"""Reports over opportunities and campaigns: pipeline (seed 003) and campaigns against their type's
average (seed 004). Their definitions are in docs/reports.md."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.models import Campaign, CampaignMember, Opportunity
from leadops.models.opportunities import CLOSED_STAGES, DEFAULT_STAGES
from leadops.reports.base import ReportParams, ReportResult, days_between, mean, median, rate, report
from leadops.reports.facts import lead_facts

#: A deal imported without any date: its age in a stage is unknown, so it stays out of the day figures.
UNDATED = "missing_created_at"


@report("pipeline", "opportunities per stage: count, amount, days in stage; the bottleneck stage flagged")
def pipeline(session: Session, params: ReportParams) -> ReportResult:
    now = params.moment
    count: Counter[str] = Counter()
    amount: dict[str, float] = defaultdict(float)
    in_stage: dict[str, list[float]] = defaultdict(list)
    to_close: dict[str, list[float]] = defaultdict(list)
    undated: Counter[str] = Counter()
    for stage, value, created, entered, closed, flags in session.execute(
        select(Opportunity.stage, Opportunity.amount, Opportunity.created_at, Opportunity.stage_changed_at,
               Opportunity.closed_at, Opportunity.flags).where(*params.in_range(Opportunity.created_at))
    ):  # fmt: skip
        count[stage] += 1
        amount[stage] += value or 0.0
        if UNDATED in (flags or []):
            undated[stage] += 1
        elif stage in CLOSED_STAGES:
            to_close[stage].append(days_between(created, closed or entered))
        else:
            in_stage[stage].append(days_between(entered, now))
    stages = [s for s in DEFAULT_STAGES if s in count or s not in CLOSED_STAGES] + sorted(
        s for s in count if s not in DEFAULT_STAGES
    )
    open_means = {s: statistics.fmean(v) for s, v in in_stage.items() if v}
    bottleneck = max(open_means, key=lambda s: (open_means[s], count[s])) if open_means else None
    rows = [[stage, count[stage], round(amount[stage], 2), mean(in_stage[stage]), median(in_stage[stage]),
             mean(to_close[stage]), undated[stage], stage == bottleneck] for stage in stages]  # fmt: skip
    won, lost = count["won"], count["lost"]
    open_count = sum(count[s] for s in count if s not in CLOSED_STAGES)
    open_amount = sum(amount[s] for s in count if s not in CLOSED_STAGES)
    return ReportResult(
        "pipeline",
        ["stage", "opportunities", "amount", "mean_days_in_stage", "median_days_in_stage", "mean_days_to_close",
         "undated", "bottleneck"], rows,
        "Opportunities created in the range, by the stage they are in now, in pipeline order. Open stages: days "
        "since each entered its current stage, up to now. Won and lost: days from creation to close. Amount: "
        "the sum of the amounts (none counts as 0). Undated: imported without any date, so left out of the day "
        "figures. Bottleneck: the open stage whose opportunities have waited longest on average.",
        notes=[f"win rate (won ÷ closed): {rate(won, won + lost)}",
               f"open opportunities: {open_count}, amount {round(open_amount, 2)}"],
    )  # fmt: skip


MEASURES = ("members", "responses", "mql", "appointments", "opportunities", "won", "response_rate", "mql_rate",
            "appointment_rate", "won_rate", "cost_per_response", "cost_per_mql", "cost_per_appointment",
            "cost_per_won")  # fmt: skip


RATE_OF = {"responses": "response_rate", "mql": "mql_rate", "appointments": "appointment_rate", "won": "won_rate"}
COST_PER = {"responses": "cost_per_response", "mql": "cost_per_mql", "appointments": "cost_per_appointment",
            "won": "cost_per_won"}  # fmt: skip


def _in_range(params: ReportParams, starts: date | None, created: Any) -> bool:
    when = starts if starts is not None else created.astimezone(params.tz).date()
    first = params.start.astimezone(params.tz).date() if params.start else None
    after_last = params.end.astimezone(params.tz).date() if params.end else None
    return (first is None or when >= first) and (after_last is None or when < after_last)


@report("campaigns", "per campaign: members, responses, MQLs, appointments, won, cost per result; vs its type's mean")
def campaigns(session: Session, params: ReportParams) -> ReportResult:
    chosen = {cid: (name, kind, cost) for cid, name, kind, cost, starts, created in session.execute(
        select(Campaign.id, Campaign.name, Campaign.type, Campaign.cost, Campaign.starts_on, Campaign.created_at)
    ) if _in_range(params, starts, created)}  # fmt: skip
    facts = lead_facts(session)
    opportunities: dict[int, list[Any]] = defaultdict(list)
    for opp_lead, created in session.execute(
        select(Opportunity.lead_id, Opportunity.created_at).where(Opportunity.lead_id.isnot(None))
    ):
        if opp_lead is not None:
            opportunities[opp_lead].append(created)
    counts: dict[int, Counter[str]] = {cid: Counter() for cid in chosen}
    for cid, lead_id, responded, joined in session.execute(
        select(CampaignMember.campaign_id, CampaignMember.lead_id, CampaignMember.first_responded_at,
               CampaignMember.created_at)
    ):  # fmt: skip
        c, lead = counts.get(cid), facts.get(lead_id)
        if c is None or lead is None:
            continue
        c["members"] += 1
        c["responses"] += responded is not None
        c["mql"] += lead.reached.get("mql") is not None and lead.reached["mql"] >= joined
        later = [at for at in opportunities.get(lead_id, ()) if at >= joined]
        c["appointments"] += bool(later)
        c["opportunities"] += len(later)
        c["won"] += lead.won_at is not None and lead.won_at >= joined
    values: dict[int, dict[str, float | None]] = {}
    for cid, c in counts.items():
        cost = chosen[cid][2]
        per = {m: c[m] for m in ("members", "responses", "mql", "appointments", "opportunities", "won")}
        values[cid] = {**per, **{name: rate(c[result], c["members"]) for result, name in RATE_OF.items()},
                       **{name: round(cost / c[result], 2) if cost is not None and c[result] else None
                          for result, name in COST_PER.items()}}  # fmt: skip
    by_type: dict[str, list[int]] = defaultdict(list)
    for cid, (_, kind, _) in chosen.items():
        by_type[kind].append(cid)
    order = sorted(chosen, key=lambda cid: (chosen[cid][1], chosen[cid][0]))
    rows = [[chosen[cid][0], chosen[cid][1], chosen[cid][2], *(values[cid][m] for m in MEASURES)] for cid in order]
    against = []
    for cid in order:
        name, kind, _ = chosen[cid]
        peers = by_type[kind]
        for measure in MEASURES:
            present = [v for p in peers if (v := values[p][measure]) is not None]
            average = round(statistics.fmean(present), 4) if present else None
            value = values[cid][measure]
            difference = round(value - average, 4) if value is not None and average is not None else None
            against.append([name, kind, len(peers), measure, value, average, difference])
    return ReportResult(
        "campaigns", ["campaign", "type", "cost", *MEASURES], rows,
        "Campaigns starting in the range (their start date, else their creation). Members: leads in the campaign; "
        "responses: members with a first response; MQL, appointments (leads with an opportunity), opportunities "
        "and won count only what happened at or after the lead joined the campaign, up to now. Rates are of "
        "members; cost per result = cost ÷ that result. The section compares each measure with the mean over "
        "the campaigns of the same type in the range (seed 004: each seminar against the average of all seminars).",
        sections={"against_type_average": {
            "columns": ["campaign", "type", "campaigns_of_type", "measure", "value", "type_average", "difference"],
            "rows": against}},
    )  # fmt: skip
