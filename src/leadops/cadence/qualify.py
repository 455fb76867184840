"""The IS qualification (seed 002: the qualification makes a lead an SQL): a rep records the
answers — budget, authority, need, timing, or a note — and the lead's lifecycle stage moves to
``sql`` through the door, with the answers as its reason. Lifecycle stages only move forward: a
lead that is already an SQL, an opportunity or a customer keeps its stage, and the answers are
still kept. The same answers again record nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.errors import FieldError, InvalidTransition, ValidationFailed
from leadops.lifecycle.door import Actor, Door
from leadops.models import Qualification, User
from leadops.rules.loader import CompiledRules

#: The answers a qualification takes, in the order they are shown (BANT, and a free note).
ANSWERS = ("budget", "authority", "need", "timing", "note")
SQL = "sql"
#: The longest answer taken, and the longest note (the API and the lead page check them too).
ANSWER_LENGTH = 500
NOTE_LENGTH = 2_000


@dataclass(frozen=True)
class Answers:
    budget: str | None = None
    authority: str | None = None
    need: str | None = None
    timing: str | None = None
    note: str | None = None

    def cleaned(self) -> Answers:
        return Answers(*((getattr(self, name) or "").strip() or None for name in ANSWERS))

    def given(self) -> dict[str, str]:
        return {name: value for name in ANSWERS if (value := getattr(self, name))}

    def summary(self) -> str:
        """The answers as the lifecycle event's reason, e.g.
        ``qualified: budget 300万円; timing 今期``."""
        return "qualified: " + "; ".join(f"{k} {v}" for k, v in self.given().items())


@dataclass(frozen=True)
class Qualified:
    qualification_id: int
    stage_before: str
    stage_after: str
    #: False when the same answers were recorded before (nothing new).
    created: bool


def qualify(
    session: Session,
    rules: CompiledRules,
    lead_id: int,
    answers: Answers,
    *,
    user: User | None,
    now: datetime,
    at: datetime | None = None,
) -> Qualified:
    """Record the qualification and make the lead an SQL. ValidationFailed naming ``answers`` when
    none is given; InvalidTransition for a lead no longer worked (a closed or nurture status)."""
    answers = answers.cleaned()
    if not answers.given():
        message = f"give at least one answer: {', '.join(ANSWERS)}"
        raise ValidationFailed([FieldError("answers", message)])
    limits = {name: NOTE_LENGTH if name == "note" else ANSWER_LENGTH for name in ANSWERS}
    long = [name for name, value in answers.given().items() if len(value) > limits[name]]
    if long:
        errors = [FieldError(name, f"at most {limits[name]} characters") for name in long]
        raise ValidationFailed(errors)
    when = at or now
    door = Door(session, rules, now, Actor.user(user.id) if user else Actor("api"))
    state = door.lock([lead_id]).get(lead_id)
    if state is None or state.values["merged_into_id"] is not None:
        raise ValidationFailed([FieldError("lead", f"no lead {lead_id}")])
    if state.values["status"] not in rules.worked_statuses:
        raise InvalidTransition(
            f"the lead is {state.values['status']}: move it back to a worked status "
            f"({', '.join(sorted(rules.worked_statuses))}) before qualifying it"
        )
    done = record_qualification(door, lead_id, answers, user_id=user.id if user else None, at=when)
    door.flush()
    return done


def record_qualification(
    door: Door, lead_id: int, answers: Answers, *, user_id: int | None, at: datetime
) -> Qualified:
    """Keep the answers and move the lead (locked by ``door``) to ``sql`` when the machine allows
    it; the door's caller flushes. The demo's simulation qualifies its leads this way."""
    session = door.session
    before = door.value(lead_id, "lifecycle_stage")
    last = session.scalars(
        select(Qualification)
        .where(Qualification.lead_id == lead_id)
        .order_by(Qualification.at.desc(), Qualification.id.desc())
        .limit(1)
    ).first()
    if last is not None and _same(last, answers):
        return Qualified(last.id, before, before, False)
    record = Qualification(lead_id=lead_id, user_id=user_id, at=at)
    for name, value in answers.given().items():
        setattr(record, name, value)
    session.add(record)
    session.flush()
    if before != SQL and door.allows(lead_id, "lifecycle_stage", SQL):
        who = Actor.user(user_id) if user_id is not None else None
        door.move(lead_id, "lifecycle_stage", SQL, at=at, reason=answers.summary(), actor=who)
    return Qualified(record.id, before, door.value(lead_id, "lifecycle_stage"), True)


def _same(record: Qualification, answers: Answers) -> bool:
    return all(getattr(record, name) == getattr(answers, name) for name in ANSWERS)


def qualifications_of(session: Session, lead_id: int) -> list[Qualification]:
    """The lead's qualifications, newest first (the lead page shows them)."""
    return list(
        session.scalars(
            select(Qualification)
            .where(Qualification.lead_id == lead_id)
            .order_by(Qualification.at.desc(), Qualification.id.desc())
        )
    )
