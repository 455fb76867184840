"""The one door: every change of a lead's state goes through a ``Door``.

A door belongs to one unit of work. It locks the leads it will change (PostgreSQL ``FOR NO KEY
UPDATE``, in id order; SQLite's single writer does the same), checks each move against the state
machine (``leadops.lifecycle.machine``), writes one ``lead_event`` per move — always the same shape:
lead, at, kind, from, to, reason, actor, rules version — and carries out the consequences:

- leaving the worked statuses stops the cadence (no deadline) and cancels the lead's open tasks;
- ``recycled`` hands the lead to marketing nurture (round robin in the cadence's recycle team);
- a new owner gets the full first-touch time on an untouched, worked lead, and the open tasks;
- a touch stage sets the next deadline; the first touch, or a connect, completes the approach
  requests; ``connected`` stops the cadence.

Moves are kept in memory and written by ``flush``: the events in one statement, and one UPDATE per
lead (many leads in one executemany), so a batch of thousands of leads costs a few statements.
Other columns of the same leads (the score) may ride along with ``set_columns``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from leadops.db import chunked, insert_plain, update_plain
from leadops.lifecycle.facts import LeadRow, load_leads, score_state_of
from leadops.lifecycle.machine import (
    KINDS,
    as_text,
    check,
    check_status,
    lifecycle_allows,
    next_statuses,
    stage_deadline_hours,
    touch_allows,
)
from leadops.models import FollowUpTask, Lead, Task, Team
from leadops.models.base import table_of
from leadops.models.cadence import follow_up_key
from leadops.models.leads import LEAD_EVENT_COLUMNS, STATE_COLUMNS
from leadops.routing.service import (
    KEPT_OPEN_LEADS,
    RouteOutcome,
    count_written_owners,
    decide,
    to_route,
)
from leadops.rules.calendar import add_hours
from leadops.rules.conditions import Facts
from leadops.rules.loader import CompiledRules
from leadops.rules.schema import RoutingRule

NURTURE_RULE = "recycle-to-nurture"
#: The columns that decide whose open lead a lead is.
_OWNED = frozenset({"owner_id", "status", "merged_into_id"})


def _owned(values: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    return values["owner_id"], values["status"], values["merged_into_id"]


#: Columns an ORM object of a lead reads again once the door holds the lead's lock: its state and
#: its cadence, which another unit of work may have changed since the object was read.
FRESH_COLUMNS = sorted(
    STATE_COLUMNS | {"next_due_at", "reminded_due_at", "escalated_due_at", "last_touch_at"}
)


@dataclass(frozen=True)
class Actor:
    """Who makes a change: ``user`` (ref: user id), ``rule`` (rule id), ``system``, ``import``
    (job), ``api``."""

    kind: str
    ref: str | None = None

    @classmethod
    def user(cls, user_id: int) -> Actor:
        return cls("user", str(user_id))


@dataclass
class Flushed:
    leads: int = 0
    events: int = 0
    #: Routing of the leads recycled into nurture.
    nurture: RouteOutcome = field(default_factory=RouteOutcome)


class NotLocked(RuntimeError):
    """A move on a lead the door has not locked: a programming error, never the user's."""


#: The lifecycle stages whose reaching is an event of the status conversions.
LIFECYCLE_EVENTS = {"sql": "qualified", "opportunity": "appointment_booked", "customer": "won"}
STATUS_REASON_LENGTH = 200
#: The longest value an event's from / to column holds.
EVENT_VALUE_LENGTH = 200


def _events_of(kind: str, old: Any, new: Any) -> list[tuple[str, int | None]]:
    """The conversion events a move is: (event, the team for ``assigned``)."""
    if kind == "team" and new is not None:
        return [("assigned", new)]
    if kind == "touch_stage":
        events: list[tuple[str, int | None]] = [("first_touch", None)] if old == "untouched" else []
        return events + ([("connected", None)] if new == "connected" else [])
    if kind == "lifecycle_stage" and new in LIFECYCLE_EVENTS:
        return [(LIFECYCLE_EVENTS[new], None)]
    return []


def _shown(value: str | None) -> str | None:
    """A value as an event's from / to holds it (at most EVENT_VALUE_LENGTH characters)."""
    if value is None or len(value) <= EVENT_VALUE_LENGTH:
        return value
    return value[: EVENT_VALUE_LENGTH - 1] + "…"


class Door:
    def __init__(
        self,
        session: Session,
        rules: CompiledRules,
        now: datetime,
        actor: Actor,
        *,
        consequences: bool = True,
    ) -> None:
        """``consequences`` off replays history recorded elsewhere (the demo's simulation): the
        moves are checked and chained, their consequences (tasks, deadlines, the hand-off to
        nurture) are already part of that history; the rules' status conversions still follow."""
        self.session, self.rules, self.now, self.actor = session, rules, now, actor
        self.consequences = consequences
        self.rows: dict[int, LeadRow] = {}
        self._pending: dict[int, dict[str, Any]] = {}
        #: The columns this door has set on each lead (what ``fields`` takes from its values).
        self._moved: dict[int, set[str]] = {}
        self._events: list[tuple[Any, ...]] = []
        self._cancel: set[int] = set()
        self._complete: dict[int, datetime] = {}
        self._retask: dict[int, int | None] = {}
        #: Leads handed from one owner to another: (from, to), whose follow-ups move with them.
        self._handover: dict[int, tuple[int, int]] = {}
        self._nurture: dict[int, str | None] = {}
        self._team_kinds: dict[int, str] | None = None
        #: Leads whose status moved, whose validity flush() checks again unless scoring did.
        self._restatused: dict[int, datetime] = {}
        self._validated: set[int] = set()
        #: Each lead's (owner, status, merged into) as the database has it, for the open-lead
        #: counts a long transaction keeps (``routing.service.KEPT_OPEN_LEADS``).
        self._stored: dict[int, tuple[Any, Any, Any]] = {}

    # --- reading ---------------------------------------------------------------------------------

    def lock(self, lead_ids: Iterable[int]) -> dict[int, LeadRow]:
        """Lock and read these leads (those not held yet); returns the rows of those that exist.
        What the session had not flushed is flushed first, so the rows include it."""
        wanted = sorted(set(lead_ids))
        missing = [i for i in wanted if i not in self.rows]
        if missing:
            self.session.flush()
            loaded = load_leads(self.session, missing, lock=True)
            self.rows.update(loaded)
            for lead_id, row in loaded.items():
                self._stored[lead_id] = _owned(row.values)
            self._expire({lead_id: FRESH_COLUMNS for lead_id in missing})
        return {i: self.rows[i] for i in wanted if i in self.rows}

    def state(self, lead_id: int) -> Mapping[str, Any]:
        """The lead's columns as they stand with this door's moves."""
        return self._row(lead_id).values

    def value(self, lead_id: int, kind: str) -> Any:
        return self._row(lead_id).values[KINDS[kind]]

    def fields(self, lead_id: int) -> dict[str, Any]:
        """What conditions see of the lead, with this door's moves."""
        row = self._row(lead_id)
        fields = row.fields
        moved = self._moved.get(lead_id)
        if not moved:
            return dict(fields)
        values = row.values
        return {**fields, **{k: values[k] for k in moved if k in fields}}

    def allows(self, lead_id: int, kind: str, value: Any) -> bool:
        """Whether the machine allows this move now (statuses: whatever their reason)."""
        current = self.value(lead_id, kind)
        if value == current:
            return True
        if kind == "status":
            return value in next_statuses(self.rules, current)
        if kind == "lifecycle_stage":
            return lifecycle_allows(self.rules, current, value)
        if kind == "touch_stage":
            return touch_allows(current, value)
        return kind in KINDS

    def _row(self, lead_id: int) -> LeadRow:
        row = self.rows.get(lead_id)
        if row is None:
            raise NotLocked(f"lead {lead_id} was not locked by this door (call lock first)")
        return row

    # --- moving ----------------------------------------------------------------------------------

    def move(
        self,
        lead_id: int,
        kind: str,
        value: Any,
        *,
        at: datetime | None = None,
        reason: str | None = None,
        actor: Actor | None = None,
        field: str = "status",
        reason_field: str = "reason",
        declared: bool = False,
    ) -> bool:
        """Move one piece of a lead's state, if the machine allows it (else InvalidTransition or
        ValidationFailed naming ``field``/``reason_field``). Returns whether anything changed.
        ``declared``: the state another system says the lead is in (a file's, an upsert's); the
        rules' status conversions follow the work done here, not what such a system declares."""
        values = self._row(lead_id).values
        column = KINDS[kind]
        old = values[column]
        if kind == "validity":
            self._validated.add(lead_id)
        if kind == "status":
            reason = check_status(
                self.rules, old, value, reason, field=field, reason_field=reason_field
            )
        else:
            check(self.rules, kind, old, value)
        if value == old:
            return False
        at = at or self.now
        who = actor or self.actor
        self._events.append(
            (lead_id, at, kind, as_text(old), as_text(value), reason, who.kind, who.ref)
            + (self.rules.version,)
        )
        self._set(lead_id, column, value)
        if kind == "status":
            self._set(lead_id, "status_reason", reason)
            self._set(lead_id, "status_changed_at", at)
            self._restatused[lead_id] = at
        elif kind == "owner":
            self._set(lead_id, "assigned_at", at)
        if self.consequences:
            self._consequences(lead_id, kind, old, value, at, reason)
        if not declared:
            for event, team_id in _events_of(kind, old, value):
                self.happened(lead_id, event, at=at, team_id=team_id)
        return True

    def happened(
        self,
        lead_id: int,
        event: str,
        *,
        at: datetime | None = None,
        reason: str | None = None,
        team_id: int | None = None,
    ) -> bool:
        """Something happened to the lead (a bounce, a lost deal …; the moves of this door say
        the rest themselves): the first of the rules' status conversions for ``event`` that
        applies moves its status, the conversion named as the actor, dated at the event (or at
        the lead's last status change, when the event is older). Returns whether one did."""
        values = self._row(lead_id).values
        status = values["status"]
        if values["merged_into_id"] is not None:
            return False
        since = values["status_changed_at"]
        if at is not None and since is not None and at < since:
            at = since  # learnt after the last status change: the move follows it in the history
        for conversion in self.rules.document.conversions:
            if conversion.event != event or status == conversion.to:
                continue
            if conversion.from_ is not None and status not in conversion.from_:
                continue
            if conversion.team_kind is not None and conversion.team_kind != self._kind(team_id):
                continue
            if not self.allows(lead_id, "status", conversion.to):
                continue
            why = conversion.reason or reason
            if why is None and conversion.to in self.rules.reason_required:
                why = conversion.id  # the status needs one: the conversion that moved it
            why = why[:STATUS_REASON_LENGTH] if why else None
            who = Actor("rule", conversion.id)
            return self.move(lead_id, "status", conversion.to, at=at, reason=why, actor=who)
        return False

    def _kind(self, team_id: int | None) -> str | None:
        if self._team_kinds is None:
            self._team_kinds = dict(self.session.execute(select(Team.id, Team.kind)).all())
        return self._team_kinds.get(team_id) if team_id is not None else None

    def merge(self, winner_id: int, loser_id: int) -> None:
        """A duplicate merged into another lead: the loser's status becomes ``merged`` (outside the
        transition table: a merged lead is only a pointer), the winner's history says so, and the
        winner takes the owner and team the loser had if it had none."""
        rows = self.lock([winner_id, loser_id])
        winner, loser = rows[winner_id].values, rows[loser_id].values
        why = f"lead {loser_id} merged into lead {winner_id}"
        for kind in ("team", "owner"):
            column = KINDS[kind]
            if winner[column] is None and loser[column] is not None:
                self.move(winner_id, kind, loser[column], reason=why)
        who = self.actor
        self._events.append(
            (loser_id, self.now, "status", loser["status"], "merged", why, who.kind, who.ref)
            + (self.rules.version,)
        )
        self._set(loser_id, "status", "merged")
        self._set(loser_id, "status_reason", why)
        self._set(loser_id, "status_changed_at", self.now)
        self._stop_cadence(loser_id)
        self._cancel.add(loser_id)
        self._events.append(
            (winner_id, self.now, "merged", str(loser_id), str(winner_id), "duplicate lead merged")
            + (who.kind, who.ref, self.rules.version)
        )

    def created(self, lead_id: int, at: datetime, actor: Actor | None = None) -> None:
        """A new lead: its first event, from nothing to its first status."""
        who = actor or self.actor
        row = (lead_id, at, "created", None, "new", None, who.kind, who.ref, self.rules.version)
        self._events.append(row)

    def record(
        self,
        lead_id: int,
        kind: str,
        *,
        at: datetime | None = None,
        old: str | None = None,
        new: str | None = None,
        reason: str | None = None,
        actor: Actor | None = None,
    ) -> None:
        """An event that marks what happened without a column of its own (``reengaged``: a
        recycled lead came back), in the one shape of the lead's history."""
        self._row(lead_id)
        who = actor or self.actor
        at = at or self.now
        self._events.append(
            (lead_id, at, kind, old, new, reason, who.kind, who.ref, self.rules.version)
        )

    def edit(
        self, lead_id: int, field: str, old: str | None, new: str | None, **columns: Any
    ) -> None:
        """A correction of one of the lead's details (its name, phone, company …, never its
        state): ``columns`` written with the next flush, and one ``field`` event that names the
        field (as its reason) and shows the values from → to."""
        refused = sorted(set(columns) & STATE_COLUMNS)
        if refused:
            raise ValueError(f"{', '.join(refused)}: lead state changes only through move()")
        self.record(lead_id, "field", old=_shown(old), new=_shown(new), reason=field)
        for column, value in columns.items():
            self._set(lead_id, column, value)
        self._set(lead_id, "updated_at", self.now)

    def complete_requests(self, lead_id: int, at: datetime) -> None:
        """The lead's open approach requests are done (it was reached), with the next flush."""
        self._row(lead_id)
        self._complete.setdefault(lead_id, at)

    def set_columns(self, lead_id: int, **values: Any) -> None:
        """Other columns of a locked lead (score, deadlines …), written with its state."""
        refused = sorted(set(values) & STATE_COLUMNS)
        if refused:
            raise ValueError(f"{', '.join(refused)}: lead state changes only through move()")
        self._row(lead_id)
        for column, value in values.items():
            self._set(lead_id, column, value)

    def _set(self, lead_id: int, column: str, value: Any) -> None:
        self.rows[lead_id].values[column] = value
        self._pending.setdefault(lead_id, {})[column] = value
        self._moved.setdefault(lead_id, set()).add(column)

    def _consequences(
        self, lead_id: int, kind: str, old: Any, new: Any, at: datetime, reason: str | None
    ) -> None:
        values = self.rows[lead_id].values
        if kind == "status":
            if new not in self.rules.worked_statuses:
                self._stop_cadence(lead_id)
                self._cancel.add(lead_id)
            if new == "recycled":
                self._nurture[lead_id] = reason
        elif kind == "owner":
            self._retask[lead_id] = new
            if old is not None and new is not None:
                first = self._handover.get(lead_id, (old, new))[0]
                self._handover[lead_id] = (first, new)
            if values["status"] not in self.rules.worked_statuses or new is None:
                self._stop_cadence(lead_id)
            elif values["touch_stage"] == "untouched":
                self._deadline(lead_id, at, "untouched")
        elif kind == "touch_stage":
            if new == "connected":
                self._stop_cadence(lead_id)
            else:
                self._deadline(lead_id, at, new)
            if old == "untouched" or new == "connected":
                self._complete.setdefault(lead_id, at)

    def _revalidate(self, lead_id: int, at: datetime) -> None:
        """Validity follows the status (a disqualified lead is not a valid one): the rules'
        validity checked again with the new status and the activity conditions the lead's
        scoring state has met — when that state is of these rules (else the next rescore does
        it)."""
        values = self.rows[lead_id].values
        if values.get("scored_version") != self.rules.version:
            return
        seen = frozenset((score_state_of(values) or {}).get("seen") or ())
        facts = Facts(fields=self.fields(lead_id), seen=seen)
        failed = next(
            (reason for _, reason, predicate in self.rules.validity if not predicate(facts)), None
        )
        self.move(lead_id, "validity", failed is None, at=at, reason=failed, actor=Actor("rule"))

    def _stop_cadence(self, lead_id: int) -> None:
        self.set_columns(lead_id, next_due_at=None, reminded_due_at=None, escalated_due_at=None)

    def _deadline(self, lead_id: int, at: datetime, stage: str) -> None:
        hours = stage_deadline_hours(self.rules, stage)
        cadence = self.rules.document.cadence
        due = add_hours(at, hours[0], cadence) if hours else None
        self.set_columns(lead_id, next_due_at=due, reminded_due_at=None, escalated_due_at=None)

    # --- writing ---------------------------------------------------------------------------------

    def flush(self) -> Flushed:
        """Write the events and the leads' new columns, then carry out the consequences (tasks,
        and routing recycled leads to nurture, whose moves are written in turn)."""
        done = Flushed()
        for lead_id, at in self._restatused.items():
            if lead_id not in self._validated:
                self._revalidate(lead_id, at)
        self._restatused, self._validated = {}, set()
        while self._events or self._pending or self._complete or self._cancel or self._retask:
            done.events += len(self._events)
            done.leads += len(self._pending)
            written = self._write()
            self._tasks()
            self._expire(written)
            if self._nurture:
                done.nurture.add(self._route_to_nurture())
        return done

    def _write(self) -> dict[int, set[str]]:
        self.session.flush()
        insert_plain(self.session, "lead_events", LEAD_EVENT_COLUMNS, self._events)
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        written: dict[int, set[str]] = {}
        for lead_id, columns in sorted(self._pending.items()):
            key = tuple(sorted(columns))
            groups.setdefault(key, []).append((lead_id, *(columns[c] for c in key)))
            written[lead_id] = set(key)
        table = table_of(Lead)
        for key, rows in groups.items():
            update_plain(self.session, table, key, rows)
        if self.session.info.get(KEPT_OPEN_LEADS):
            self._count_owners(written)
        self._events, self._pending = [], {}
        return written

    def _count_owners(self, written: Mapping[int, set[str]]) -> None:
        changes = []
        for lead_id, columns in written.items():
            if columns.isdisjoint(_OWNED):
                continue
            before, after = self._stored[lead_id], _owned(self.rows[lead_id].values)
            if before != after:
                changes.append((before, after))
                self._stored[lead_id] = after
        count_written_owners(self.session, changes)

    def _tasks(self) -> None:
        """Cancel, complete and hand over the open tasks of the leads the moves asked for, in a
        few statements whatever their number (most leads, new ones above all, have none)."""
        tasks = table_of(Task)
        open_tasks = tasks.c.state == "open"
        wanted = sorted(self._cancel | set(self._complete) | set(self._retask))
        having: set[int] = set()
        for part in chunked(wanted):
            found = select(tasks.c.lead_id).where(tasks.c.lead_id.in_(part), open_tasks)
            having.update(self.session.scalars(found.distinct()))
        cancel = sorted(having & self._cancel)
        for part in chunked(cancel):
            self.session.execute(
                update(tasks)
                .where(tasks.c.lead_id.in_(part), open_tasks)
                .values(state="cancelled", completed_at=self.now)
            )
        complete = [{"lid": i, "at": at} for i, at in sorted(self._complete.items()) if i in having]
        if complete:
            requests = (tasks.c.lead_id == bindparam("lid")) & (tasks.c.kind == "approach_request")
            stmt = update(tasks).where(requests, open_tasks)
            self.session.execute(stmt.values(state="done", completed_at=bindparam("at")), complete)
        retask = [{"lid": i, "oid": o} for i, o in sorted(self._retask.items()) if i in having]
        if retask:
            stmt = update(tasks).where(tasks.c.lead_id == bindparam("lid"), open_tasks)
            self.session.execute(stmt.values(owner_id=bindparam("oid")), retask)
        self._hand_over_follow_ups()
        self._cancel, self._complete, self._retask = set(), {}, {}

    def _hand_over_follow_ups(self) -> None:
        """The open follow-ups the previous owner had on a lead go to its new owner (others'
        stay theirs), each keyed as the new owner's (one the new owner already has the same of
        keeps no key)."""
        moves = {lead_id: pair for lead_id, pair in self._handover.items() if pair[0] != pair[1]}
        self._handover = {}
        if not moves:
            return
        follow_ups = table_of(FollowUpTask)
        found = []
        for part in chunked(sorted(moves)):
            rows = select(
                follow_ups.c.id,
                follow_ups.c.lead_id,
                follow_ups.c.assignee_id,
                follow_ups.c.due_at,
                follow_ups.c.note,
            ).where(follow_ups.c.lead_id.in_(part), follow_ups.c.state == "open")
            found += [r for r in self.session.execute(rows) if r.assignee_id == moves[r.lead_id][0]]
        if not found:
            return
        keys = {
            r.id: follow_up_key(r.lead_id, moves[r.lead_id][1], r.due_at, r.note or "")
            for r in found
        }
        taken = set(
            self.session.scalars(
                select(follow_ups.c.dedup_key).where(follow_ups.c.dedup_key.in_(keys.values()))
            )
        )
        handed = []
        for r in found:
            key = None if keys[r.id] in taken else keys[r.id]
            taken.add(keys[r.id])  # a second of the same keeps no key either
            handed.append({"tid": r.id, "now": moves[r.lead_id][1], "key": key})
        # Only one still open: one closed since it was read keeps its owner and no key.
        stmt = update(follow_ups).where(
            follow_ups.c.id == bindparam("tid"), follow_ups.c.state == "open"
        )
        self.session.execute(
            stmt.values(assignee_id=bindparam("now"), dedup_key=bindparam("key")), handed
        )

    def _route_to_nurture(self) -> RouteOutcome:
        """Recycled leads go back to marketing nurture: round robin in the recycle team."""
        recycled, self._nurture = self._nurture, {}
        team = self.rules.document.cadence.recycle_team
        rule = RoutingRule(id=NURTURE_RULE, team=team, strategy="round_robin")
        outcome = RouteOutcome()
        for reason in sorted({r or "" for r in recycled.values()}):
            ids = [i for i, r in recycled.items() if (r or "") == reason]
            items = [
                replace(to_route(self.rows[i].values, self.fields(i), handoff=True), rule=rule)
                for i in sorted(ids)
            ]
            found, decisions = decide(
                self.session, self.rules, self.now, items, actor_ref=f"recycled: {reason}"
            )
            outcome.add(found)
            for decision in decisions:
                who = Actor("rule", decision.rule_id)
                why = decision.reason
                self.move(decision.lead_id, "team", decision.team_id, reason=why, actor=who)
                self.move(decision.lead_id, "owner", decision.owner_id, reason=why, actor=who)
        return outcome

    def _expire(self, columns: Mapping[int, Iterable[str]]) -> None:
        """ORM objects of these leads in the session read these columns again on next use."""
        for lead_id, names in columns.items():
            obj = self.session.identity_map.get(identity_key(Lead, lead_id))
            if obj is not None:
                self.session.expire(obj, sorted(names))
