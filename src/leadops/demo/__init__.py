"""``leadops demo``: a deterministic Japanese B2B dataset that looks like a team's last half-year.

The same seed on the same day builds the same data. Leads and activities go through the real
ingestion path; the team's work on them (routing, touches, SLA, deals) is simulated and written as
the history events a real team would leave.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from leadops.auth import hash_password
from leadops.demo.people import make_activities, make_people
from leadops.demo.simulate import Simulation
from leadops.demo.world import DOMAIN, Org, build_campaigns, build_companies, build_org
from leadops.errors import Conflict
from leadops.ingest.activities import ingest_activities
from leadops.ingest.context import IngestContext
from leadops.ingest.leads import LeadInput, LeadWriter
from leadops.lifecycle.door import Actor, Door
from leadops.lifecycle.machine import CONNECTING
from leadops.models import (
    ActivityType,
    Base,
    CampaignMember,
    FollowUpTask,
    Lead,
    LeadAssignment,
    Opportunity,
    OpportunityEvent,
    OutOfOffice,
    Quota,
    RoutingCredit,
    Task,
    Team,
    Touch,
    User,
)
from leadops.models.base import table_of
from leadops.models.opportunities import TARGET_MEASURES
from leadops.rules.service import active_rules
from leadops.runtime import Runtime

DAYS = 182
#: Every demo account signs in with this password (a demo on one's own machine, not a deployment).
DEMO_PASSWORD = "leadops-demo"


@dataclass
class DemoResult:
    teams: int
    users: int
    companies: int
    leads: int
    activities: int
    touches: int
    opportunities: int
    won: int
    seconds: float

    def summary(self) -> str:
        return (
            f"Demo built in {self.seconds:.1f} s: {self.leads} leads at {self.companies} "
            "companies, "
            f"{self.activities} activities, {self.touches} touches, {self.opportunities} "
            "opportunities "
            f"({self.won} won), {self.teams} teams, {self.users} users (e-mails @{DOMAIN})."
        )


def demo_sign_ins(session: Session) -> list[tuple[str, str, str]]:
    """(role, e-mail, name) of one demo account per role: a member, the manager of that member's
    team, a marketing user and the admin. Empty when the database holds no demo accounts that sign
    in."""
    users = session.execute(
        select(User.id, User.role, User.email, User.name, User.team_id)
        .where(
            User.email.like(f"%@{DOMAIN}"), User.password_hash.isnot(None), User.active.is_(True)
        )
        .order_by(User.id)
    ).all()
    manager_of = dict(session.execute(select(Team.id, Team.manager_id)).all())
    by_id = {u.id: u for u in users}
    first: dict[str, tuple[str, str, str]] = {}
    for u in users:
        if u.role == "member" and "member" not in first and manager_of.get(u.team_id) in by_id:
            manager = by_id[manager_of[u.team_id]]
            first["member"] = (u.role, u.email, u.name)
            first["manager"] = (manager.role, manager.email, manager.name)
    for u in users:
        first.setdefault(u.role, (u.role, u.email, u.name))
    return [first[r] for r in ("member", "manager", "marketing", "admin") if r in first]


def clear_data(session: Session) -> None:
    """Delete every row except the built-in activity types (the schema stays)."""
    session.execute(update(Team).values(manager_id=None))
    for table in reversed(Base.metadata.sorted_tables):
        if table.name != ActivityType.__tablename__:
            session.execute(delete(table))


def build_demo(rt: Runtime, *, seed: int = 7, leads: int = 5000, force: bool = False) -> DemoResult:
    started = time.perf_counter()
    tz = rt.settings.tz
    local_now = rt.clock.now().astimezone(tz)
    now = local_now.replace(hour=9, minute=0, second=0, microsecond=0)
    if local_now < now:
        now -= timedelta(days=1)
    start = now - timedelta(days=DAYS)
    rng = random.Random(seed)
    with rt.factory() as session, session.begin():
        existing = session.scalar(select(func.count()).select_from(Lead)) or 0
        if existing and not force:
            raise Conflict(
                f"the database already has {existing} leads; use `leadops demo --force` to rebuild "
                "it"
            )
        clear_data(session)
        org = build_org(session, now, tz)
        demo_hash = hash_password(DEMO_PASSWORD)
        session.execute(update(User).values(password_hash=demo_hash))
        campaigns = build_campaigns(session, rng, start.date(), DAYS, now)
        companies = build_companies(rng, max(1, round(leads * 0.3)))
        people = sorted(
            make_people(rng, companies, campaigns, start, DAYS, leads), key=lambda p: p.created_at
        )
        ctx = IngestContext.from_settings(
            session, rt.settings, now, actor_kind="import", actor_ref="demo"
        )
        ctx_actor = Actor("import", "demo")
        ctx.routing = False  # the simulation below plays the team's routing history
        by_email = _create_leads(ctx, people)
        activities = _create_activities(ctx, rng, people, now)
        _create_members(session, people, by_email, now)
        session.expire_all()  # scoring wrote levels and scores with Core statements: reload them
        ooo = {o.user_id: (o.starts_at, o.ends_at) for o in session.scalars(select(OutOfOffice))}
        door = Door(session, active_rules(session, now), now, ctx_actor, consequences=False)
        door.lock([lead.id for lead in by_email.values()])
        simulation = Simulation(rng, org, now, ooo, door)
        for person in people:
            simulation.run(person, by_email[person.email])
        won = _write_history(session, simulation)
        _set_quotas(session, org, simulation, now)
        door.flush()
        _schedule_follow_ups(session, rng, now)
        session.flush()
        result = DemoResult(
            teams=len(org.teams),
            users=1 + sum(len(m) + 1 for m in org.members.values()),
            companies=len({lead.account_id for lead in by_email.values()}),
            leads=len(people),
            activities=activities,
            touches=len(simulation.history.touches),
            opportunities=len(simulation.history.opportunities),
            won=won,
            seconds=0.0,
        )
    if rt.engine.dialect.name == "postgresql":
        # Planner statistics for the tables just filled, as autovacuum would give them a little
        # later.
        with rt.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    result.seconds = time.perf_counter() - started
    return result


#: What the demo's reps have scheduled: (hours from the demo's 09:00, note, done).
FOLLOW_UPS = (
    (-20, "資料送付後のフォロー電話", True),
    (-1, "不在のため再架電（午前中希望）", False),
    (5, "5日10時に再架電：予算の確認", False),
    (25, "決裁者同席の日程を確認", False),
)


def _schedule_follow_ups(session: Session, rng: random.Random, now: datetime) -> None:
    """A few follow-ups of each inside-sales rep on leads they work: one done yesterday, one
    overdue, one due today and one tomorrow."""
    reps = session.scalars(
        select(User)
        .join(Team, Team.id == User.team_id)
        .where(Team.kind == "inside_sales", User.role == "member", User.active.is_(True))
        .order_by(User.id)
    ).all()
    for rep in reps:
        worked = session.scalars(
            select(Lead.id).where(Lead.owner_id == rep.id, Lead.status == "lead").order_by(Lead.id)
        ).all()
        picked = rng.sample(list(worked), min(len(worked), len(FOLLOW_UPS)))
        for lead_id, (hours, note, done) in zip(picked, FOLLOW_UPS, strict=False):
            due = now + timedelta(hours=hours)
            made = min(now, due) - timedelta(days=1)
            session.add(
                FollowUpTask(
                    lead_id=lead_id,
                    assignee_id=rep.id,
                    due_at=due,
                    note=note,
                    state="done" if done else "open",
                    created_by_id=rep.id,
                    created_at=made,
                    done_at=due if done else None,
                    done_by_id=rep.id if done else None,
                    reminded_at=due if done else None,
                )
            )


#: The targets the demo sets an inside-sales team and its members.
INSIDE_SALES_TARGETS = ("touches", "connects", "appointments")


def _tallies(simulation: Simulation) -> dict[str, Counter[int]]:
    """Per person, the half-year's touches, connects, appointments booked (as SDR), opportunities
    owned and amount won."""
    out: dict[str, Counter[int]] = {m: Counter() for m in TARGET_MEASURES}
    for touch in simulation.history.touches:
        out["touches"][touch["user_id"]] += 1
        if touch["outcome"] in CONNECTING:
            out["connects"][touch["user_id"]] += 1
    for deal in simulation.history.opportunities:
        out["appointments"][deal["sdr_id"]] += 1
        out["opportunities"][deal["owner_id"]] += 1
        if deal["stage"] == "won":
            out["won_amount"][deal["owner_id"]] += deal["amount"]
    return out


def _target(measure: str, done: Counter[int], ids: list[int], months: int) -> float | int:
    """A little above the monthly average of ``ids``: a count whole, an amount to ¥100,000."""
    average = 1.15 * sum(done[i] for i in ids) / months
    return round(average, -5) if measure == "won_amount" else round(average)


def _set_quotas(session: Session, org: Org, simulation: Simulation, now: datetime) -> None:
    """Monthly targets the managers would set (seed 001: 常に売上を中心に): for each month of
    the demo, a little above each member's and team's average of the half-year — touches, connects
    and appointments for inside sales, opportunities and won amount for field sales."""
    tz = now.tzinfo
    months = sorted(
        {(now - timedelta(days=d)).astimezone(tz).date().replace(day=1) for d in range(0, DAYS, 28)}
    )
    done = _tallies(simulation)
    span = max(1, len(months))
    rows = []
    for team_name, members in org.members.items():
        team = org.teams[team_name]
        manager = org.managers.get(team_name)
        if team.kind not in ("inside_sales", "sales"):
            continue
        kept = ("opportunities", "won_amount") if team.kind == "sales" else INSIDE_SALES_TARGETS
        for subject, ids in [(f"team:{team.id}", [m.id for m in members])] + [
            (f"member:{m.id}", [m.id]) for m in members
        ]:
            targets = {
                m: _target(m, done[m], ids, span) if m in kept else None for m in TARGET_MEASURES
            }
            for month in months:
                rows.append(
                    {
                        "month": month,
                        "subject_key": subject,
                        "team_id": team.id if subject.startswith("team:") else None,
                        "user_id": None if subject.startswith("team:") else ids[0],
                        **targets,
                        "set_by_id": manager.id if manager else None,
                        "set_at": now,
                    }
                )
    if rows:
        session.execute(insert(table_of(Quota)), rows)


def _create_leads(ctx: IngestContext, people: list) -> dict[str, Lead]:
    writer = LeadWriter(ctx)
    inputs = [
        LeadInput(
            email=p.email,
            first_name=p.first_name,
            last_name=p.last_name,
            company=p.company.name,
            title=p.title,
            department=p.department,
            phone=p.phone,
            prefecture=p.company.prefecture,
            source=p.source,
            created_at=p.created_at,
            employees=p.company.employees,
            industry=p.company.industry,
            custom={"利用中のMAシステム": p.ma_system},
        )
        for p in people
    ]
    writer.preload(inputs)
    out: dict[str, Lead] = {}
    for person, item in zip(people, inputs, strict=True):
        lead = writer.upsert(item).lead
        assert lead is not None  # the demo's leads have no status to refuse
        lead.first_campaign_id = person.campaign.id
        out[person.email] = lead
    writer.finish()
    return out


def _create_activities(ctx: IngestContext, rng: random.Random, people: list, now: datetime) -> int:
    batch: list[dict[str, object]] = []
    total = 0
    for person in people:
        make_activities(rng, person, now)
        batch.extend(person.events)
        if len(batch) >= 5000:
            total += ingest_activities(ctx, batch, default_source="demo").accepted
            batch = []
    if batch:
        total += ingest_activities(ctx, batch, default_source="demo").accepted
    return total


def _create_members(
    session: Session, people: list, by_email: dict[str, Lead], now: datetime
) -> None:
    status = {
        "tradeshow": "attended",
        "content": "downloaded",
        "webinar": "registered",
        "inquiry_form": "responded",
    }
    rows = [
        {
            "campaign_id": p.campaign.id,
            "lead_id": by_email[p.email].id,
            "status": status.get(p.channel, "sent"),
            "first_responded_at": p.created_at if p.channel in status else None,
            "created_at": p.created_at,
        }
        for p in people
    ]
    session.execute(insert(table_of(CampaignMember)), rows)


def _write_history(session: Session, simulation: Simulation) -> int:
    """Bulk-write what the simulation produced (Core inserts: no per-row flushes)."""
    history = simulation.history
    tables = (
        (Touch, history.touches),
        (Task, history.tasks),
        (LeadAssignment, history.assignments),
    )
    for model, rows in tables:
        if rows:
            session.execute(insert(table_of(model)), rows)
    # Live routing after the demo carries on each team's round robin where the simulation left it.
    counts: dict[tuple[int, int], int] = {}
    for row in history.assignments:
        counts[(row["team_id"], row["user_id"])] = (
            counts.get((row["team_id"], row["user_id"]), 0) + 1
        )
    credits = [
        {
            "team_id": simulation.org.teams[name].id,
            "user_id": c.user_id,
            "credit": c.round_robin_credit,
            "assigned": counts.get((simulation.org.teams[name].id, c.user_id), 0),
            "updated_at": simulation.now,
        }
        for name, robin in simulation.robins.items()
        for c in robin.candidates
    ]
    if credits:
        session.execute(insert(table_of(RoutingCredit)), credits)
    opportunities = []
    for item in history.opportunities:
        opp = Opportunity(
            lead_id=item["lead"].id,
            account_id=item["account_id"],
            owner_id=item["owner_id"],
            sdr_id=item["sdr_id"],
            name=item["name"],
            stage=item["stage"],
            amount=item["amount"],
            created_at=item["created_at"],
            stage_changed_at=item["stage_changed_at"],
            closed_at=item["closed_at"],
            lost_reason=item["lost_reason"],
            custom={},
            flags=[],
        )
        session.add(opp)
        opportunities.append((opp, item))
    session.flush()
    events = [
        {
            "opportunity_id": opp.id,
            "at": at,
            "from_stage": old,
            "to_stage": new,
            "actor_kind": "user",
            "actor_ref": str(item["owner_id"]),
        }
        for opp, item in opportunities
        for at, old, new in item["events"]
    ]
    if events:
        session.execute(insert(table_of(OpportunityEvent)), events)
    return sum(1 for _, item in opportunities if item["stage"] == "won")
