"""Half a year of a team's work on the demo leads: routing, touches, SLA reassignments, recycling,
appointments and deals, each change written as the history event a real team would leave behind."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from leadops.cadence.qualify import Answers, record_qualification
from leadops.demo.people import Person
from leadops.demo.world import Org
from leadops.ingest.prefectures import KINKI
from leadops.lifecycle.door import Actor, Door
from leadops.models import Lead, User
from leadops.routing.strategies import Candidate, Choice, LeadFacts, choose, with_credit

MARKETING = "マーケティング部"
INSIDE_SALES = "本社営業本部インサイドセールス部"
HQ_SALES = "本社営業本部法人営業部"
OSAKA_SALES = "大阪支社営業部"
CONNECT_RATE = {4: 0.32, 3: 0.2, 2: 0.14, 1: 0.1, None: 0.09}
APPOINTMENT_RATE = {4: 0.55, 3: 0.38, 2: 0.28, 1: 0.2, None: 0.22}
TOUCH_GAPS = [(20, 48), (20, 48), (40, 96)]  # hours between touch 1→2, 2→3, 3→4
STAGES = ["to_contact", "contacted", "follow_up", "proposal_draft", "proposal_sent"]


class RoundRobin:
    """The team's round robin (the routing strategy), with the credits kept between picks."""

    def __init__(
        self, users: list[User], out_of_office: dict[int, tuple[datetime, datetime]]
    ) -> None:
        self.users = {u.id: u for u in users}
        self.candidates = [
            Candidate(
                u.id,
                weight=u.routing_weight,
                away=[out_of_office[u.id]] if u.id in out_of_office else [],
            )
            for u in users
        ]

    def pick(self, at: datetime, exclude: int | None = None) -> tuple[User, Choice]:
        pool = [c for c in self.candidates if c.user_id != exclude] or self.candidates
        choice = choose("round_robin", pool, LeadFacts(), at)
        if choice.user_id is None:  # everyone away: the demo team still works the lead
            choice = choose("round_robin", [replace(c, away=()) for c in pool], LeadFacts(), at)
        assert choice.user_id is not None
        self.candidates = [with_credit(c, choice.credits) for c in self.candidates]
        if exclude is not None and exclude in self.users:
            choice.skipped[exclude] = "the previous owner (reassignment)"
        return self.users[choice.user_id], choice

    def candidates_json(self, choice: Choice) -> list[dict[str, Any]]:
        return [
            {
                "user_id": u.id,
                "email": u.email,
                "name": u.name,
                "result": "chosen"
                if u.id == choice.user_id
                else choice.skipped.get(u.id, "eligible"),
            }
            for u in self.users.values()
        ]


@dataclass
class History:
    events: list[dict[str, Any]] = field(default_factory=list)
    touches: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    opportunities: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)


class Simulation:
    """Plays a team's half-year on the demo leads. Every change of a lead's state goes through the
    door (in its replay mode: the consequences are what the simulation itself plays)."""

    def __init__(
        self,
        rng: random.Random,
        org: Org,
        now: datetime,
        ooo: dict[int, tuple[datetime, datetime]],
        door: Door,
    ) -> None:
        self.rng, self.org, self.now, self.door = rng, org, now, door
        self.robins = {name: RoundRobin(users, ooo) for name, users in org.members.items()}
        self.history = History()

    def assign(
        self, lead: Lead, team_name: str, at: datetime, rule: str, exclude: int | None = None
    ) -> User:
        team = self.org.teams[team_name]
        robin = self.robins[team_name]
        owner, choice = robin.pick(at, exclude)
        who = Actor("rule", rule)
        self.door.move(lead.id, "team", team.id, at=at, actor=who)
        self.door.move(lead.id, "owner", owner.id, at=at, actor=who)
        self.history.assignments.append(
            {
                "lead_id": lead.id,
                "at": at,
                "team_id": team.id,
                "user_id": owner.id,
                "rule_id": rule,
                "strategy": "round_robin",
                "reason": choice.reason,
                "candidates": robin.candidates_json(choice),
                "actor_kind": "rule",
                "actor_ref": rule,
            }
        )
        return owner

    def set(
        self,
        lead: Lead,
        at: datetime,
        kind: str,
        value: Any,
        actor: str,
        ref: str | None,
        reason: str | None = None,
    ) -> None:
        self.door.move(lead.id, kind, value, at=at, reason=reason, actor=Actor(actor, ref))

    def due(self, lead: Lead, at: datetime | None) -> None:
        self.door.set_columns(lead.id, next_due_at=at)

    def run(self, person: Person, lead: Lead) -> None:
        rng = self.rng
        # The level is the rules engine's, computed when the activities went in (seed 001's table).
        person.level = self.door.value(lead.id, "level")
        if self.door.value(lead.id, "status") in self.door.rules.closed_statuses:
            return  # its activities closed it (a bounce): nobody works it
        assigned = person.created_at + timedelta(minutes=rng.randint(3, 30))
        if person.level == 1:
            self.assign(lead, MARKETING, assigned, "level-1-marketing")
            return
        if person.level == 4:
            kinki = person.company.prefecture in KINKI
            team, rule = (OSAKA_SALES, "level-4-kinki") if kinki else (HQ_SALES, "level-4-other")
        else:
            team = INSIDE_SALES
            rule = "level-2-3-inside-sales" if person.level else "default-inside-sales"
        owner = self.assign(lead, team, assigned, rule)
        if person.inquiry:
            self.history.tasks.append(
                {
                    "lead_id": lead.id,
                    "owner_id": owner.id,
                    "kind": "approach_request",
                    "subject": "問合せ受付/100点未満",
                    "rule_id": "approach-inquiry",
                    "created_at": person.created_at,
                    "due_at": person.created_at + timedelta(hours=48),
                    "completed_at": None,
                    "state": "open",
                    "dedup_key": f"demo-task-{lead.id}",
                }
            )
        self.cadence(person, lead, owner, assigned, team)

    def cadence(
        self, person: Person, lead: Lead, owner: User, assigned: datetime, team: str
    ) -> None:
        rng, now = self.rng, self.now
        delay = rng.lognormvariate(2.3, 1.1)  # hours; most within a day, a tail past 48 h
        if delay > 48:
            breach = assigned + timedelta(hours=48)
            if breach > now:
                self.due(lead, breach)
                return
            owner = self.assign(lead, team, breach, "sla-untouched-48h", exclude=owner.id)
            assigned, delay = breach, rng.uniform(0.5, 20)
        at = assigned + timedelta(hours=delay)
        if at > now:
            self.due(lead, assigned + timedelta(hours=48))
            return
        self._complete_task(lead, at)
        if rng.random() < 0.03:
            self.set(
                lead,
                at,
                "status",
                "disqualified_marketing",
                "user",
                str(owner.id),
                rng.choice(["bounced", "fake_company"]),
            )
            return
        self.set(lead, at, "status", "lead", "user", str(owner.id))
        p_connect = CONNECT_RATE[person.level]
        for attempt in range(1, 5):
            connected = rng.random() < p_connect
            self.touch(lead, owner, at, connected, f"touch_{attempt}")
            stage = "connected" if connected else f"touch_{attempt}"
            self.set(lead, at, "touch_stage", stage, "user", str(owner.id))
            self.door.set_columns(lead.id, last_touch_at=at)
            if connected:
                self.due(lead, None)
                self.after_connect(person, lead, owner, at)
                return
            if attempt == 4:
                recycle_at = at + timedelta(hours=48)
                if recycle_at > now:
                    self.due(lead, recycle_at)
                    return
                self.set(
                    lead,
                    recycle_at,
                    "status",
                    "recycled",
                    "rule",
                    "recycle-no-connect",
                    "no_connect",
                )
                self.assign(lead, MARKETING, recycle_at, "recycle-no-connect")
                self.due(lead, None)
                return
            low, high = TOUCH_GAPS[attempt - 1]
            nxt = at + timedelta(hours=rng.uniform(low * 0.5, high * 1.15))
            if nxt > now:
                self.due(lead, at + timedelta(hours=high))
                return
            at = nxt

    def touch(self, lead: Lead, owner: User, at: datetime, connected: bool, stage: str) -> None:
        """A touch made at ``stage`` with that stage's playbook (as a rep who follows it does)."""
        playbook = self.door.rules.playbooks.get(stage)
        channel = self.rng.choice(["call", "call", "call", "email", "voicemail"])
        outcome = (
            "connected"
            if connected
            else {"call": "no_answer", "email": "sent", "voicemail": "voicemail_left"}[channel]
        )
        if connected and channel == "email":
            outcome = "replied"
        self.history.touches.append(
            {
                "lead_id": lead.id,
                "user_id": owner.id,
                "at": at,
                "channel": channel,
                "outcome": outcome,
                "note": None,
                "stage": stage,
                "template": playbook.template if playbook else None,
            }
        )

    def _complete_task(self, lead: Lead, at: datetime) -> None:
        for task in self.history.tasks[-3:]:
            if task["lead_id"] == lead.id and task["state"] == "open":
                task.update(state="done", completed_at=at)

    def after_connect(self, person: Person, lead: Lead, owner: User, at: datetime) -> None:
        rng, now = self.rng, self.now
        if rng.random() < 0.06:
            self.set(
                lead,
                at,
                "status",
                "disqualified_sales",
                "user",
                str(owner.id),
                rng.choice(["competitor", "job_seeker"]),
            )
            return
        if rng.random() < 0.7:
            record_qualification(self.door, lead.id, self.answers(), user_id=owner.id, at=at)
        if (
            self.door.value(lead.id, "lifecycle_stage") == "sql"
            and rng.random() < APPOINTMENT_RATE[person.level] / 0.7
        ):
            booked = at + timedelta(days=rng.uniform(0.5, 7))
            if booked <= now:
                self.opportunity(person, lead, owner, booked)
                return
        if rng.random() < 0.5:
            later = at + timedelta(days=rng.uniform(3, 25))
            if later <= now:
                reason = rng.choice(["timing", "budget", "no_need", "timing"])
                self.set(lead, later, "status", "recycled", "user", str(owner.id), reason)
                self.assign(lead, MARKETING, later, "recycle-manual")

    def answers(self) -> Answers:
        """What a rep hears when qualifying (seed 002's hearing items)."""
        rng = self.rng
        return Answers(
            budget=rng.choice(["100万円/年", "300万円/年", "500万円以上", "未定"]),
            authority=rng.choice(["部長が決裁", "役員会", "本人が決裁", None]),
            need=rng.choice(["リード管理の一元化", "MAとSFAの連携", "架電の効率化", None]),
            timing=rng.choice(["今期中", "来期", "半年以内", "未定"]),
        )

    def opportunity(self, person: Person, lead: Lead, sdr: User, booked: datetime) -> None:
        rng, now = self.rng, self.now
        sales_team = OSAKA_SALES if person.company.prefecture in KINKI else HQ_SALES
        rep, _ = self.robins[sales_team].pick(booked)
        self.set(
            lead,
            booked,
            "lifecycle_stage",
            "opportunity",
            "user",
            str(sdr.id),
            "appointment booked",
        )
        amount = round(rng.lognormvariate(14.6, 0.8), -4)
        stage_events: list[tuple[datetime, str | None, str]] = [(booked, None, "to_contact")]
        at, stage, closed = booked, "to_contact", None
        for current in STAGES[1:] + ["won"]:
            nxt = at + timedelta(days=rng.uniform(2, 14))
            if nxt > now:
                break
            if rng.random() < 0.14:
                stage_events.append((nxt, stage, "lost"))
                stage, closed = "lost", nxt
                break
            stage_events.append((nxt, stage, current))
            at, stage = nxt, current
            if current == "won":
                closed = nxt
        self.history.opportunities.append(
            {
                "lead": lead,
                "account_id": lead.account_id,
                "owner_id": rep.id,
                "sdr_id": sdr.id,
                "name": f"{person.company.name} 導入検討",
                "stage": stage,
                "amount": amount,
                "created_at": booked,
                "stage_changed_at": stage_events[-1][0],
                "closed_at": closed,
                "lost_reason": rng.choice(["price", "competitor", "no_decision"])
                if stage == "lost"
                else None,
                "events": stage_events,
                "rep": rep,
            }
        )
        if stage == "lost" and closed is not None:
            # The rules' lost → recycled conversion, and the hand-off to nurture it calls for.
            reason = self.history.opportunities[-1]["lost_reason"]
            if self.door.happened(lead.id, "lost", at=closed, reason=f"lost: {reason}"):
                self.assign(lead, MARKETING, closed, "recycle-lost")
        if stage == "won" and closed is not None:
            self.set(lead, closed, "lifecycle_stage", "customer", "user", str(rep.id), "won")
            self.set(lead, closed, "status", "customer", "user", str(rep.id))
