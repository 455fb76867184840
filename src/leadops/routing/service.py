"""Routing leads in the database: the rules choose a team (first match wins), the rule's strategy
chooses the person (``routing.strategies``), and every decision is recorded as a ``lead_assignment``
with the rule, the strategy, each candidate and why it was passed over. ``decide`` returns the
decisions; the door (``leadops.lifecycle``) gives the leads to their new owners and teams.

When it runs: a lead with no owner is routed as soon as it is scored (on ingest, in a rescore or by
``leadops route``); a lead whose level changes is routed again and moves only if the rules now name
another team (a handoff, seed 001 STEP4). Leads in a closed status and merged leads are left alone.

Concurrency: the chosen teams' rows are locked (PostgreSQL ``FOR NO KEY UPDATE``, in id order, after
the leads' own locks) before the roster, open-lead counts and round-robin credits are read, so
routers in any number of processes share one exact round-robin sequence. On SQLite the single writer
lock does the same; a router that read a stale snapshot fails to write and its unit of work is
retried.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import Session

from leadops.db import driver_fetchall, driver_rows_by_ids, insert_for, insert_plain
from leadops.models import (
    Account,
    Lead,
    LeadAssignment,
    Opportunity,
    OutOfOffice,
    RoutingCredit,
    Team,
    User,
)
from leadops.models.base import table_of
from leadops.models.opportunities import CLOSED_STAGES
from leadops.models.org import manager_of
from leadops.notify import Note, enqueue
from leadops.routing.strategies import Candidate, Choice, LeadFacts, choose
from leadops.rules.conditions import Facts
from leadops.rules.loader import CompiledRules
from leadops.rules.schema import RoutingRule

#: Roles that take leads from a team's strategy; managers take them only through their queue.
MEMBER_ROLES = ("member", "marketing")
ASSIGNMENT_COLUMNS = (
    "lead_id",
    "at",
    "team_id",
    "user_id",
    "rule_id",
    "strategy",
    "reason",
    "candidates",
    "actor_kind",
    "actor_ref",
)


@dataclass(frozen=True)
class ToRoute:
    """A lead to route, as the scoring step left it."""

    lead_id: int
    fields: Mapping[str, Any]  # what routing conditions see (level, region, score, account.* …)
    owner_id: int | None
    team_id: int | None
    account_id: int | None
    #: The lead has an owner and its level changed: move it only if the rules now name another team.
    handoff: bool = False
    #: A rule chosen by the caller instead of the routing rules (an SLA reassignment, a recycle).
    rule: RoutingRule | None = None
    #: Someone who must not get the lead (the owner who let it go stale).
    exclude: int | None = None
    #: Straight to the team manager's queue (a lead reassigned too often for the same reason).
    to_manager: bool = False


@dataclass
class RouteOutcome:
    assigned: int = 0
    handed_off: int = 0
    to_manager: int = 0
    unchanged: int = 0
    unrouted: int = 0
    problems: dict[str, int] = field(default_factory=dict)

    def add(self, other: RouteOutcome) -> None:
        for name in ("assigned", "handed_off", "to_manager", "unchanged", "unrouted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, count in other.problems.items():
            self.problems[key] = self.problems.get(key, 0) + count


def needs_owner(values: Mapping[str, Any], closed: frozenset[str]) -> bool:
    """An open, unmerged lead without an owner."""
    return (
        values.get("owner_id") is None
        and values.get("merged_into_id") is None
        and values["status"] not in closed
    )


def first_match(rules: CompiledRules, fields: Mapping[str, Any]) -> RoutingRule | None:
    facts = Facts(fields=fields)
    for (_, predicate), rule in zip(rules.routing, rules.document.routing.rules, strict=True):
        if predicate is None or predicate(facts):
            return rule
    return None


@dataclass(frozen=True)
class _TeamRow:
    id: int
    name: str
    kind: str
    manager_id: int | None
    parent_id: int | None


@dataclass(frozen=True)
class _UserRow:
    id: int
    email: str | None
    name: str
    team_id: int | None
    role: str
    active: bool
    weight: float
    capacity: int | None


@dataclass
class _Roster:
    """Everything strategies look at, read once per batch under the teams' locks, kept current in
    memory."""

    teams: dict[str, _TeamRow]
    teams_by_id: dict[int, _TeamRow]
    members: dict[int, list[_UserRow]]
    users: dict[int, _UserRow]
    open_leads: dict[int, int]
    away: dict[int, list[tuple[datetime, datetime]]]
    closed_deals: dict[int, tuple[int, int]]
    credits: dict[tuple[int, int], float]
    assigned: dict[tuple[int, int], int]
    account_owners: dict[int, int]
    touched_credits: set[tuple[int, int]] = field(default_factory=set)
    new_account_owners: dict[int, int] = field(default_factory=dict)

    def candidate(self, user: _UserRow, team_id: int) -> Candidate:
        won, lost = self.closed_deals.get(user.id, (0, 0))
        return Candidate(
            user_id=user.id,
            active=user.active,
            weight=user.weight,
            capacity=user.capacity,
            open_leads=self.open_leads.get(user.id, 0),
            away=tuple(self.away.get(user.id, ())),
            won=won,
            lost=lost,
            round_robin_credit=self.credits.get((team_id, user.id), 0.0),
        )

    def manager_of(self, team: _TeamRow) -> int | None:
        return manager_of(team.id, self.teams_by_id)


def _load_roster(
    session: Session,
    names: set[str],
    rules: CompiledRules,
    now: datetime,
    plan: Sequence[tuple[ToRoute, RoutingRule | None]],
) -> _Roster:
    all_teams = [
        _TeamRow(*row)
        for row in session.execute(
            select(Team.id, Team.name, Team.kind, Team.manager_id, Team.parent_id)
        )
    ]
    teams = {t.name: t for t in all_teams if t.name in names}
    if teams and session.connection().dialect.name == "postgresql":
        ids = sorted(t.id for t in teams.values())
        session.execute(
            select(Team.id)
            .where(Team.id.in_(ids))
            .order_by(Team.id)
            .with_for_update(key_share=True)
        )
    team_ids = [t.id for t in teams.values()]
    strategies = {rule.strategy for _, rule in plan if rule is not None}
    account_ids = sorted(
        {
            item.account_id
            for item, rule in plan
            if item.account_id and rule is not None and rule.strategy == "account_owner"
        }
    )
    account_owners = _account_owners(session, account_ids) if account_ids else {}
    user_cols = (
        User.id,
        User.email,
        User.name,
        User.team_id,
        User.role,
        User.active,
        User.routing_weight,
        User.capacity,
    )
    users: dict[int, _UserRow] = {}
    if team_ids:
        for row in session.execute(
            select(*user_cols).where(User.team_id.in_(team_ids), User.role.in_(MEMBER_ROLES))
        ):
            users[row[0]] = _UserRow(*row)
    extra = set(account_owners.values()) - set(users)
    if extra:
        for row in session.execute(select(*user_cols).where(User.id.in_(sorted(extra)))):
            users[row[0]] = _UserRow(*row)
    members: dict[int, list[_UserRow]] = defaultdict(list)
    for user in sorted(users.values(), key=lambda u: u.id):
        if user.team_id in team_ids and user.role in MEMBER_ROLES:
            members[user.team_id].append(user)
    ids = sorted(users)
    open_leads: dict[int, int] = {}
    away: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    closed_deals: dict[int, tuple[int, int]] = {}
    # Open leads are counted only for whom they can decide: reps with a capacity, everyone for
    # least_loaded (the count reads every open lead of theirs).
    loaded = (
        ids if "least_loaded" in strategies else [i for i in ids if users[i].capacity is not None]
    )
    if loaded:
        open_leads = open_lead_counts(session, loaded, rules.closed_statuses)
    if ids:
        periods = select(OutOfOffice.user_id, OutOfOffice.starts_at, OutOfOffice.ends_at).where(
            OutOfOffice.user_id.in_(ids), OutOfOffice.starts_at <= now, OutOfOffice.ends_at > now
        )
        for user_id, starts, ends in session.execute(periods):
            away[user_id].append((starts, ends))
        if "by_win_rate" in strategies:
            won_lost: dict[int, list[int]] = defaultdict(lambda: [0, 0])
            deals = (
                select(Opportunity.owner_id, Opportunity.stage, func.count())
                .where(Opportunity.owner_id.in_(ids), Opportunity.stage.in_(CLOSED_STAGES))
                .group_by(Opportunity.owner_id, Opportunity.stage)
            )
            for owner_id, stage, count in session.execute(deals):
                if owner_id is not None:
                    won_lost[owner_id][0 if stage == "won" else 1] += count
            closed_deals = {k: (v[0], v[1]) for k, v in won_lost.items()}
    credits: dict[tuple[int, int], float] = {}
    assigned: dict[tuple[int, int], int] = {}
    if team_ids:
        stored = select(
            RoutingCredit.team_id,
            RoutingCredit.user_id,
            RoutingCredit.credit,
            RoutingCredit.assigned,
        )
        for team_id, user_id, credit, count in session.execute(
            stored.where(RoutingCredit.team_id.in_(team_ids))
        ):
            credits[(team_id, user_id)] = credit
            assigned[(team_id, user_id)] = count
    return _Roster(
        teams=teams,
        teams_by_id={t.id: t for t in all_teams},
        members=members,
        users=users,
        open_leads=open_leads,
        away=away,
        closed_deals=closed_deals,
        credits=credits,
        assigned=assigned,
        account_owners=account_owners,
    )


#: ``session.info`` key: open-lead counts kept for the rest of the session's transaction instead
#: of counted again by every routing batch (a rules preview routes chunk after chunk in one long
#: transaction, and each count reads every open lead of the reps asked for). Whoever sets it (to
#: an empty dict) owns the transaction; the door keeps the counts it holds current as it writes
#: owners and statuses (``Door._write``), so they stay what a count would read.
KEPT_OPEN_LEADS = "leadops.routing.open_leads"


def open_lead_counts(
    session: Session, user_ids: Sequence[int], closed: frozenset[str]
) -> dict[int, int]:
    """How many open (not closed, not merged) leads each of these users owns; from the kept
    counts when the session keeps them (``KEPT_OPEN_LEADS``)."""
    kept: dict[frozenset[str], dict[int, int]] | None = session.info.get(KEPT_OPEN_LEADS)
    if kept is None:
        return _count_open_leads(session, user_ids, closed)
    counts = kept.setdefault(closed, {})
    missing = [i for i in user_ids if i not in counts]
    if missing:
        found = _count_open_leads(session, missing, closed)
        counts.update({i: found.get(i, 0) for i in missing})
    # A copy: the batch counts its own assignments on it (``_count_assignment``), the door the
    # written ones on the kept counts.
    return {i: counts[i] for i in user_ids}


def _count_open_leads(
    session: Session, user_ids: Sequence[int], closed: frozenset[str]
) -> dict[int, int]:
    stmt = (
        select(Lead.owner_id, func.count())
        .where(
            Lead.owner_id.in_(user_ids),
            Lead.merged_into_id.is_(None),
            Lead.status.not_in(closed),
        )
        .group_by(Lead.owner_id)
    )
    return {owner: count for owner, count in session.execute(stmt) if owner is not None}


def count_written_owners(
    session: Session, changes: Sequence[tuple[tuple[Any, ...], tuple[Any, ...]]]
) -> None:
    """Keep the session's kept open-lead counts (if it keeps any) current with leads written
    from one (owner, status, merged into) to another."""
    kept: dict[frozenset[str], dict[int, int]] | None = session.info.get(KEPT_OPEN_LEADS)
    if not kept:
        return
    for closed, counts in kept.items():
        for before, after in changes:
            was, now = _open_owner(before, closed), _open_owner(after, closed)
            if was == now:
                continue
            if was in counts:
                counts[was] -= 1
            if now in counts:
                counts[now] += 1


def _open_owner(state: tuple[Any, ...], closed: frozenset[str]) -> int | None:
    owner, status, merged_into = state
    # A merged lead's status is "merged" before its pointer is written (``ingest.merge_leads``).
    is_open = merged_into is None and status != "merged" and status not in closed
    return owner if is_open else None


def _account_owners(session: Session, account_ids: Sequence[int]) -> dict[int, int]:
    """The owner of each account: its owner, else the owner of its newest open opportunity."""
    owners: dict[int, int] = {}
    for start in range(0, len(account_ids), 500):
        part = account_ids[start : start + 500]
        opps = (
            select(Opportunity.account_id, Opportunity.owner_id)
            .where(
                Opportunity.account_id.in_(part),
                Opportunity.stage.not_in(CLOSED_STAGES),
                Opportunity.owner_id.isnot(None),
            )
            .order_by(Opportunity.created_at, Opportunity.id)
        )
        for account_id, owner_id in session.execute(opps):
            if account_id is not None and owner_id is not None:
                owners[account_id] = owner_id
        for account_id, owner_id in session.execute(
            select(Account.id, Account.owner_id).where(
                Account.id.in_(part), Account.owner_id.isnot(None)
            )
        ):
            if owner_id is not None:
                owners[account_id] = owner_id
    return owners


@dataclass(frozen=True)
class Decision:
    """Who a lead goes to: the owner and team the door is asked to give it."""

    lead_id: int
    owner_id: int
    team_id: int
    rule_id: str
    #: "rule-id: why" — recorded with the owner and team events.
    reason: str


@dataclass
class _Writes:
    assignments: list[tuple[Any, ...]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)


def decide(
    session: Session,
    rules: CompiledRules,
    now: datetime,
    items: Sequence[ToRoute],
    *,
    actor_kind: str = "rule",
    actor_ref: str | None = None,
) -> tuple[RouteOutcome, list[Decision]]:
    """Choose an owner for each of these leads (their rows must already be locked by the caller),
    record each decision with its candidates, the round-robin credits and the notifications, and
    return the decisions for the door to carry out. See the module docstring."""
    outcome = RouteOutcome()
    if not items:
        return outcome, []
    plan = [
        (item, item.rule or first_match(rules, item.fields))
        for item in sorted(items, key=lambda i: i.lead_id)
    ]
    roster = _load_roster(
        session, {rule.team for _, rule in plan if rule is not None}, rules, now, plan
    )
    writes = _Writes()
    failures: list[tuple[ToRoute, RoutingRule | None, str]] = []
    for item, rule in plan:
        team = roster.teams.get(rule.team) if rule is not None else None
        if rule is None:
            failures.append((item, rule, "no routing rule matches the lead"))
        elif team is None:
            failures.append((item, rule, _missing_team(rule)))
        elif item.handoff and item.team_id == team.id:
            outcome.unchanged += 1
        else:
            _assign(roster, now, item, rule, team, writes, outcome, (actor_kind, actor_ref))
    if failures:
        _unroutable(session, now, failures, writes, outcome, (actor_kind, actor_ref))
    writes.assignments = _without_repeated_failures(session, writes.assignments)
    _write(session, roster, now, writes)
    return outcome, writes.decisions


def _missing_team(rule: RoutingRule) -> str:
    return f"team {rule.team!r} of rule {rule.id} is not in the organisation (leadops org apply)"


def _unroutable(
    session: Session,
    now: datetime,
    failures: Sequence[tuple[ToRoute, RoutingRule | None, str]],
    writes: _Writes,
    outcome: RouteOutcome,
    actor: tuple[str, str | None],
) -> None:
    """Leads no rule or team can take: recorded, and the admins told (once per problem)."""
    admins = list(
        session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True)))
    )
    for item, rule, problem in failures:
        outcome.unrouted += 1
        outcome.problems[problem] = outcome.problems.get(problem, 0) + 1
        rule_id, strategy = (rule.id, rule.strategy) if rule else (None, None)
        writes.assignments.append(
            (item.lead_id, now, None, None, rule_id, strategy, problem, [], *actor)
        )
        writes.notes += [
            Note(a, "routing_failed", f"routing-failed:{problem}:{a}", {"problem": problem})
            for a in admins
        ]


def _assignments(ids: list[int]) -> Select[Any]:
    """The assignment rows of these leads, oldest first."""
    columns: list[Any] = [LeadAssignment.lead_id, LeadAssignment.user_id, LeadAssignment.reason]
    stmt: Select[Any] = (
        select(*columns)
        .where(LeadAssignment.lead_id.in_(ids))
        .order_by(LeadAssignment.at, LeadAssignment.id)
    )
    return stmt


def _without_repeated_failures(
    session: Session, rows: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """A lead that still cannot be routed for the reason already recorded last gets no new row each
    time it is scored; a new reason, or a success, is recorded."""
    failed = sorted({row[0] for row in rows if row[3] is None})
    if not failed:
        return rows
    last: dict[int, tuple[int | None, str | None]] = {}
    session.flush()  # an assignment row the session holds counts (read straight on the driver)
    connection = session.connection()
    for start in range(0, len(failed), 500):
        part = failed[start : start + 500]
        found = driver_rows_by_ids(connection, "assignments", _assignments, part)
        for lead_id, user_id, reason in driver_fetchall(found):
            last[lead_id] = (user_id, reason)
    return [row for row in rows if row[3] is not None or last.get(row[0]) != (None, row[6])]


@dataclass
class _Pick:
    """One lead's candidates, the strategy's choice and the company's owner, if any."""

    members: list[_UserRow]
    pool: list[Candidate]
    choice: Choice
    account_owner: int | None


def _pick(
    roster: _Roster, now: datetime, item: ToRoute, rule: RoutingRule, team: _TeamRow
) -> _Pick:
    members = [u for u in roster.members.get(team.id, []) if u.id != item.exclude]
    account_owner = None
    if item.account_id is not None:
        account_owner = roster.new_account_owners.get(
            item.account_id, roster.account_owners.get(item.account_id)
        )
    pool = [roster.candidate(u, team.id) for u in members]
    outsider = roster.users.get(account_owner) if account_owner is not None else None
    member_ids = {u.id for u in members}
    if rule.strategy == "account_owner" and outsider is not None and outsider.id not in member_ids:
        # The company's owner sits in another team: one company, one owner.
        pool.append(roster.candidate(outsider, team.id))
    fields = item.fields
    employees = fields.get("account.employees")
    facts = LeadFacts(
        employees=employees if isinstance(employees, int) else None,
        score=int(fields.get("score") or 0),
        account_owner_id=account_owner,
        fields=fields,
    )
    if item.to_manager:
        choice = Choice(None, "reassigned too often for the same reason: the manager's queue")
    else:
        choice = choose(rule.strategy, pool, facts, now, _with_user_ids(rule.options, roster))
    for user_id, credit in choice.credits.items():
        if user_id in member_ids:
            roster.credits[(team.id, user_id)] = credit
            roster.touched_credits.add((team.id, user_id))
    return _Pick(members, pool, choice, account_owner)


def _assign(
    roster: _Roster,
    now: datetime,
    item: ToRoute,
    rule: RoutingRule,
    team: _TeamRow,
    writes: _Writes,
    outcome: RouteOutcome,
    actor: tuple[str, str | None],
) -> None:
    pick = _pick(roster, now, item, rule, team)
    owner_id, new_team, reason = pick.choice.user_id, team.id, pick.choice.reason
    if owner_id is None:
        owner_id = roster.manager_of(team)
        if owner_id is None:
            reason = f"{reason}, and team {team.name!r} has no manager"
            outcome.unrouted += 1
            outcome.problems[reason] = outcome.problems.get(reason, 0) + 1
        else:
            outcome.to_manager += 1
            stamp = f"manager-queue:{item.lead_id}:{now.isoformat()}"
            payload = _payload(item, team, rule, pick.choice.reason)
            writes.notes.append(Note(owner_id, "manager_queue", stamp, payload))
    else:
        new_team = _count_assignment(roster, item, rule, team, pick, owner_id)
    candidates = [_candidate_json(roster, c.user_id, pick.choice) for c in pick.pool]
    if item.exclude is not None and item.exclude in roster.users:
        taken_from = _candidate_json(roster, item.exclude, pick.choice)
        candidates.append(taken_from | {"result": "the owner it is taken from"})
    writes.assignments.append(
        (item.lead_id, now, new_team, owner_id, rule.id, rule.strategy, reason, candidates, *actor)
    )
    if owner_id is None:
        return
    if item.owner_id is not None:
        outcome.handed_off += 1
    else:
        outcome.assigned += 1
    writes.decisions.append(
        Decision(item.lead_id, owner_id, new_team, rule.id, f"{rule.id}: {reason}")
    )
    _notify(writes, now, item, team, rule, reason, owner_id, pick)


def _count_assignment(
    roster: _Roster, item: ToRoute, rule: RoutingRule, team: _TeamRow, pick: _Pick, owner_id: int
) -> int:
    """Keep the roster current for the next lead of the batch; returns the owner's team."""
    new_team = team.id
    roster.open_leads[owner_id] = roster.open_leads.get(owner_id, 0) + 1
    if owner_id in {u.id for u in pick.members}:
        key = (team.id, owner_id)
        roster.assigned[key] = roster.assigned.get(key, 0) + 1
        roster.touched_credits.add(key)
    else:
        chosen = roster.users[owner_id]
        new_team = chosen.team_id if chosen.team_id is not None else team.id
    if item.account_id is not None and pick.account_owner is None:
        if rule.strategy == "account_owner":
            roster.new_account_owners[item.account_id] = owner_id
    return new_team


def _notify(
    writes: _Writes,
    now: datetime,
    item: ToRoute,
    team: _TeamRow,
    rule: RoutingRule,
    reason: str,
    owner_id: int,
    pick: _Pick,
) -> None:
    payload = _payload(item, team, rule, reason)
    stamp = f"{item.lead_id}:{now.isoformat()}"
    if pick.choice.user_id is not None:
        template = "lead_handed_over" if item.owner_id is not None else "lead_assigned"
        writes.notes.append(Note(owner_id, template, f"{template}:{stamp}:{owner_id}", payload))
    if item.owner_id is not None and item.owner_id != owner_id:
        key = f"lead_handed_off:{stamp}:{item.owner_id}"
        writes.notes.append(Note(item.owner_id, "lead_handed_off", key, payload))
    if pick.account_owner is not None and pick.account_owner != owner_id:
        key = f"account_lead_assigned:{stamp}:{pick.account_owner}"
        writes.notes.append(Note(pick.account_owner, "account_lead_assigned", key, payload))


def _with_user_ids(options: Mapping[str, Any], roster: _Roster) -> Mapping[str, Any]:
    """Bands name their rep by e-mail in the rules document; strategies work with user ids."""
    bands = options.get("bands")
    if not bands:
        return options
    ids = {u.email: u.id for u in roster.users.values() if u.email}
    resolved = [{**band, "user": ids.get(band.get("user"), band.get("user"))} for band in bands]
    return {**options, "bands": resolved}


def _payload(item: ToRoute, team: _TeamRow, rule: RoutingRule, reason: str) -> dict[str, Any]:
    fields = item.fields
    return {
        "lead_id": item.lead_id,
        "email": fields.get("email"),
        "company": fields.get("company"),
        "level": fields.get("level"),
        "team": team.name,
        "rule": rule.id,
        "reason": reason,
    }


def _candidate_json(roster: _Roster, user_id: int, choice: Choice) -> dict[str, Any]:
    user = roster.users[user_id]
    if user_id == choice.user_id:
        result = "chosen"
    elif user_id in choice.skipped:
        result = choice.skipped[user_id]
    else:
        result = "eligible"
    return {"user_id": user_id, "email": user.email, "name": user.name, "result": result}


def _write(session: Session, roster: _Roster, now: datetime, writes: _Writes) -> None:
    insert_plain(session, "lead_assignments", ASSIGNMENT_COLUMNS, writes.assignments)
    if roster.touched_credits:
        rows = [
            {
                "team_id": t,
                "user_id": u,
                "credit": roster.credits.get((t, u), 0.0),
                "assigned": roster.assigned.get((t, u), 0),
                "updated_at": now,
            }
            for t, u in sorted(roster.touched_credits)
        ]
        stmt_credit = insert_for(session)(table_of(RoutingCredit))
        stmt_credit = stmt_credit.on_conflict_do_update(
            index_elements=["team_id", "user_id"],
            set_={
                "credit": stmt_credit.excluded.credit,
                "assigned": stmt_credit.excluded.assigned,
                "updated_at": stmt_credit.excluded.updated_at,
            },
        )
        session.execute(stmt_credit, rows)
    if roster.new_account_owners:
        accounts = table_of(Account)
        session.execute(
            update(accounts)
            .where(accounts.c.id == bindparam("aid"), accounts.c.owner_id.is_(None))
            .values(owner_id=bindparam("uid")),
            [{"aid": a, "uid": u} for a, u in sorted(roster.new_account_owners.items())],
        )
    enqueue(session, writes.notes, now)


def first_rule_for_kind(
    session: Session,
    rules: CompiledRules,
    fields: Mapping[str, Any],
    kind: str,
    kinds: Mapping[str, str] | None = None,
) -> RoutingRule | None:
    """The first routing rule that the lead meets whose team is of this kind (a re-engaged lead
    goes back to inside sales the way the rules route one there); ``kinds``: each team's kind
    by name, when the caller has read them."""
    if kinds is None:
        kinds = dict(session.execute(select(Team.name, Team.kind)).all())
    facts = Facts(fields)
    for (_, predicate), rule in zip(rules.routing, rules.document.routing.rules, strict=True):
        if kinds.get(rule.team) == kind and (predicate is None or predicate(facts)):
            return rule
    return None


def to_route(
    values: Mapping[str, Any], fields: Mapping[str, Any], *, handoff: bool = False
) -> ToRoute:
    return ToRoute(
        lead_id=values["id"],
        fields=fields,
        owner_id=values.get("owner_id"),
        team_id=values.get("team_id"),
        account_id=values.get("account_id"),
        handoff=handoff,
    )


def assignments_of(session: Session, lead_id: int) -> list[dict[str, Any]]:
    """The lead's routing decisions, newest first, for explain views."""
    team_names: dict[int, str] = {
        tid: name for tid, name in session.execute(select(Team.id, Team.name))
    }
    users = {
        uid: (email, name)
        for uid, email, name in session.execute(select(User.id, User.email, User.name))
    }
    rows = session.scalars(
        select(LeadAssignment)
        .where(LeadAssignment.lead_id == lead_id)
        .order_by(LeadAssignment.at.desc(), LeadAssignment.id.desc())
    )
    return [
        {
            "at": a.at,
            "team": team_names.get(a.team_id) if a.team_id else None,
            "user": users.get(a.user_id, (None, None))[0] if a.user_id else None,
            "rule": a.rule_id,
            "strategy": a.strategy,
            "reason": a.reason,
            "candidates": a.candidates,
            "actor": f"{a.actor_kind}:{a.actor_ref}" if a.actor_ref else a.actor_kind,
        }
        for a in rows
    ]
