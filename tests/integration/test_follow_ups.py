"""Follow-up tasks a rep schedules on a lead: scheduling (the due time not past, the note bounded,
the same one twice made once), completing twice recorded once, cancelling, the open ones overdue
first, the scope of who schedules for whom, the timeline, and the one reminder when due."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from leadops.cadence.sweep import sweep_sla
from leadops.cadence.tasks import (
    NOTE_LENGTH,
    cancel,
    complete,
    open_tasks_of,
    reschedule,
    schedule,
    timeline_items,
)
from leadops.errors import Conflict, Forbidden, ValidationFailed
from leadops.models import FollowUpTask, Lead, Notification, Team, User
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from tests.factories import give, make_lead, make_user
from tests.webapp import build_org


def _user(session: Session, user_id: int) -> User:
    return session.get_one(User, user_id)


def test_a_follow_up_is_scheduled_for_the_rep_and_listed_most_overdue_first(
    runtime: Runtime, session: Session
) -> None:
    org = build_org(session, runtime, leads=2)
    now = runtime.clock.now()
    rep = _user(session, org.users["member"])
    later = schedule(
        session, org.leads[0], by=rep, due_at=now + timedelta(days=2), note="再架電", now=now
    )
    sooner = schedule(session, org.leads[1], by=rep, due_at=now + timedelta(hours=1), now=now)
    assert later.created
    assert sooner.created
    assert later.task.assignee_id == rep.id
    assert later.task.created_by_id == rep.id
    assert later.task.note == "再架電"
    assert sooner.task.note is None
    runtime.clock.advance(timedelta(hours=3))  # the sooner one is overdue now
    listed = open_tasks_of(session, rep.id)
    assert [f.task.id for f in listed] == [sooner.task.id, later.task.id]
    assert listed[0].overdue(runtime.clock.now())
    assert not listed[1].overdue(runtime.clock.now())
    assert listed[0].lead.id == org.leads[1]
    due_today = open_tasks_of(session, rep.id, due_before=now + timedelta(days=1))
    assert [f.task.id for f in due_today] == [sooner.task.id]


def test_a_due_time_in_the_past_or_a_long_note_is_refused_naming_the_field(
    runtime: Runtime, session: Session
) -> None:
    org = build_org(session, runtime, leads=1)
    now = runtime.clock.now()
    rep = _user(session, org.users["member"])
    with pytest.raises(ValidationFailed) as past:
        schedule(session, org.leads[0], by=rep, due_at=now - timedelta(hours=1), now=now)
    assert [e.path for e in past.value.errors] == ["due_at"]
    with pytest.raises(ValidationFailed) as long_note:
        schedule(
            session,
            org.leads[0],
            by=rep,
            due_at=now + timedelta(hours=1),
            note="x" * (NOTE_LENGTH + 1),
            now=now,
        )
    assert [e.path for e in long_note.value.errors] == ["note"]
    assert session.scalar(select(func.count(FollowUpTask.id))) == 0
    # A moment ago (typed to the minute, sent a little later) is still taken.
    ok = schedule(session, org.leads[0], by=rep, due_at=now - timedelta(minutes=1), now=now)
    assert ok.created


def test_the_same_follow_up_sent_twice_is_one_task(runtime: Runtime, session: Session) -> None:
    org = build_org(session, runtime, leads=1)
    now = runtime.clock.now()
    rep = _user(session, org.users["member"])
    due = now + timedelta(days=1)
    first = schedule(session, org.leads[0], by=rep, due_at=due, note="5日10時に再架電", now=now)
    again = schedule(session, org.leads[0], by=rep, due_at=due, note="5日10時に再架電", now=now)
    assert first.created
    assert not again.created
    assert again.task.id == first.task.id
    other = schedule(session, org.leads[0], by=rep, due_at=due, note="資料送付", now=now)
    assert other.created
    assert other.task.id != first.task.id
    complete(session, first.task.id, by=rep, now=now)
    # Done, the same follow-up may be scheduled anew.
    anew = schedule(session, org.leads[0], by=rep, due_at=due, note="5日10時に再架電", now=now)
    assert anew.created
    assert anew.task.id != first.task.id


def test_completing_twice_records_once_and_a_cancelled_one_cannot_be_done(
    runtime: Runtime, session: Session
) -> None:
    org = build_org(session, runtime, leads=1)
    now = runtime.clock.now()
    rep = _user(session, org.users["member"])
    task = schedule(session, org.leads[0], by=rep, due_at=now + timedelta(hours=2), now=now).task
    first = complete(session, task.id, by=rep, now=now + timedelta(minutes=5))
    second = complete(session, task.id, by=rep, now=now + timedelta(minutes=9))
    assert first.changed
    assert not second.changed
    assert second.task.done_at == now + timedelta(minutes=5)
    assert second.task.state == "done"
    assert second.task.done_by_id == rep.id
    assert open_tasks_of(session, rep.id) == []
    with pytest.raises(Conflict):
        cancel(session, task.id, by=rep, now=now)
    other = schedule(session, org.leads[0], by=rep, due_at=now + timedelta(hours=3), now=now).task
    assert cancel(session, other.id, by=rep, now=now).changed
    assert not cancel(session, other.id, by=rep, now=now).changed
    assert other.state == "cancelled"
    assert other.cancelled_by_id == rep.id
    with pytest.raises(Conflict):
        complete(session, other.id, by=rep, now=now)
    items = timeline_items(session, org.leads[0])
    assert sorted(i["title"] for i in items) == ["cancelled", "done", "scheduled", "scheduled"]
    assert {i["actor"] for i in items} == {"Member"}


def test_a_member_schedules_only_on_their_own_leads_and_for_themselves(
    runtime: Runtime, session: Session
) -> None:
    org = build_org(session, runtime, leads=1)
    now = runtime.clock.now()
    due = now + timedelta(hours=2)
    other_team = Team(name="大阪IS", kind="inside_sales", created_at=now)
    session.add(other_team)
    session.flush()
    stranger = make_user(session, email="osaka@firm.test", team_id=other_team.id)
    theirs = make_lead(session, runtime, email="x@osaka.example", company="大阪商事")
    give(session, runtime, theirs, owner_id=stranger.id, team_id=other_team.id)
    rep = _user(session, org.users["member"])
    rep2 = _user(session, org.users["member2"])
    with pytest.raises(Forbidden):
        schedule(session, theirs.id, by=rep, due_at=due, now=now)
    with pytest.raises(Forbidden):
        schedule(session, org.leads[0], by=rep, assignee=rep2, due_at=due, now=now)
    # The manager of the team schedules for its member; not on the other team's lead.
    manager = _user(session, org.users["manager"])
    made = schedule(session, org.leads[0], by=manager, assignee=rep2, due_at=due, now=now)
    assert made.task.assignee_id == rep2.id
    assert made.task.created_by_id == manager.id
    told = session.execute(
        select(Notification.recipient_id).where(Notification.template == "follow_up_assigned")
    )
    assert list(told.scalars()) == [rep2.id]  # someone else scheduled it: rep2 is told
    with pytest.raises(Forbidden):
        schedule(session, theirs.id, by=manager, due_at=due, now=now)
    # Only its assignee (or whom they answer to) closes it.
    with pytest.raises(Forbidden):
        complete(session, made.task.id, by=rep, now=now)
    assert complete(session, made.task.id, by=manager, now=now).changed


def test_the_assignee_is_told_once_when_a_follow_up_falls_due(
    runtime: Runtime, session: Session
) -> None:
    org = build_org(session, runtime, leads=1)
    now = runtime.clock.now()
    rep = _user(session, org.users["member"])
    task = schedule(session, org.leads[0], by=rep, due_at=now + timedelta(hours=2), now=now).task
    done = schedule(session, org.leads[0], by=rep, due_at=now + timedelta(hours=1), now=now).task
    complete(session, done.id, by=rep, now=now)
    session.commit()
    rules = active_rules(session, now)

    def told() -> list[tuple[int, str]]:
        rows = session.execute(
            select(Notification.recipient_id, Notification.dedup_key).where(
                Notification.template == "follow_up_due"
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    assert sweep_sla(session, rules, now + timedelta(hours=1)).follow_ups_due == 0
    assert told() == []
    at_due = now + timedelta(hours=2, minutes=1)
    assert sweep_sla(session, rules, at_due).follow_ups_due == 1
    assert sweep_sla(session, rules, at_due + timedelta(hours=1)).follow_ups_due == 0
    session.commit()
    assert told() == [(rep.id, f"follow_up_due:{task.id}")]
    lead = session.get_one(Lead, org.leads[0])
    assert lead.status == "lead"  # a follow-up is not the lead's state


def test_two_completions_at_once_record_one_the_second_waiting_for_the_first(
    runtime: Runtime, session: Session, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer")
    org = build_org(session, runtime, leads=1)
    now = runtime.clock.now()
    rep = _user(session, org.users["member"])
    made = schedule(session, org.leads[0], by=rep, due_at=now + timedelta(hours=1), now=now)
    task_id = made.task.id
    session.commit()
    first = runtime.factory()
    first.begin()
    assert complete(first, task_id, by=first.get_one(User, rep.id), now=now).changed
    results: list[bool] = []

    def second() -> None:
        with runtime.factory() as other, other.begin():
            who = other.get_one(User, rep.id)
            results.append(complete(other, task_id, by=who, now=now).changed)

    thread = threading.Thread(target=second)
    thread.start()
    # The second waits on the first's row lock (seen in pg_stat_activity) before the first commits.
    waiting = 0
    while not waiting and thread.is_alive():
        session.rollback()
        waiting = session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    first.commit()
    first.close()
    thread.join()
    assert waiting == 1
    assert results == [False]


def test_a_moved_follow_up_keeps_its_first_time_and_is_told_again_at_the_new_one(
    runtime: Runtime, session: Session
) -> None:
    org = build_org(session, runtime, leads=1)
    now = runtime.clock.now()
    rep = _user(session, org.users["member"])
    rules = active_rules(session, now)
    task = schedule(session, org.leads[0], by=rep, due_at=now + timedelta(hours=1), now=now).task
    assert sweep_sla(session, rules, now + timedelta(hours=2)).follow_ups_due == 1
    # The sweep handed the overdue lead to another rep, and the follow-up went with it.
    session.refresh(task)
    assert task.assignee_id == session.get_one(Lead, org.leads[0]).owner_id != rep.id
    rep = _user(session, task.assignee_id)
    later = now + timedelta(days=2)
    with pytest.raises(ValidationFailed) as past:
        reschedule(session, task.id, by=rep, due_at=now - timedelta(hours=2), now=now)
    assert [e.path for e in past.value.errors] == ["due_at"]
    moved = reschedule(session, task.id, by=rep, due_at=later, now=now + timedelta(hours=2))
    assert moved.changed
    assert not reschedule(session, task.id, by=rep, due_at=later, now=now).changed
    assert task.first_due_at == now + timedelta(hours=1)
    assert task.due_at == later
    assert task.reminded_at is None
    assert sweep_sla(session, rules, later - timedelta(hours=1)).follow_ups_due == 0
    assert sweep_sla(session, rules, later).follow_ups_due == 1
    (line,) = [i for i in timeline_items(session, org.leads[0]) if i["title"] == "moved"]
    assert (line["from"], line["due_at"]) == (now + timedelta(hours=1), later)
    complete(session, task.id, by=rep, now=later)
    with pytest.raises(Conflict):
        reschedule(session, task.id, by=rep, due_at=later + timedelta(days=1), now=later)


def test_a_reassigned_lead_takes_its_previous_owners_follow_ups_to_the_new_one(
    runtime: Runtime, session: Session
) -> None:
    org = build_org(session, runtime, leads=1)
    now = runtime.clock.now()
    rep, other = _user(session, org.users["member"]), _user(session, org.users["member2"])
    boss = _user(session, org.users["manager"])
    lead_id = org.leads[0]
    mine = schedule(session, lead_id, by=rep, due_at=now + timedelta(days=1), now=now).task
    bosses = schedule(
        session, lead_id, by=boss, due_at=now + timedelta(days=1), note="同行", now=now
    ).task
    done = schedule(session, lead_id, by=rep, due_at=now + timedelta(hours=2), now=now).task
    complete(session, done.id, by=rep, now=now)
    session.commit()
    lead = session.get_one(Lead, lead_id)
    give(session, runtime, lead, owner_id=other.id, team_id=org.team_id)
    session.commit()
    session.expire_all()
    assert session.get_one(FollowUpTask, mine.id).assignee_id == other.id
    assert session.get_one(FollowUpTask, bosses.id).assignee_id == boss.id  # not the owner's
    assert session.get_one(FollowUpTask, done.id).assignee_id == rep.id  # closed: history
    assert [f.task.id for f in open_tasks_of(session, other.id)] == [mine.id]
    # The new owner asking for the same follow-up again finds it rather than a second one.
    again = schedule(session, lead_id, by=other, due_at=mine.due_at, now=now)
    assert (again.created, again.task.id) == (False, mine.id)


def test_two_like_follow_ups_handed_over_twice_do_not_block_the_move(
    runtime: Runtime, session: Session
) -> None:
    org = build_org(session, runtime, leads=1)
    now = runtime.clock.now()
    rep, other = _user(session, org.users["member"]), _user(session, org.users["member2"])
    boss = _user(session, org.users["manager"])
    lead = session.get_one(Lead, org.leads[0])
    give(session, runtime, lead, owner_id=other.id, team_id=org.team_id)
    due = now + timedelta(days=1)
    schedule(session, lead.id, by=other, due_at=due, note="同じ", now=now)
    schedule(session, lead.id, by=boss, assignee=rep, due_at=due, note="同じ", now=now)
    session.commit()
    give(session, runtime, lead, owner_id=rep.id, team_id=org.team_id)  # rep has both now
    session.commit()
    give(session, runtime, lead, owner_id=other.id, team_id=org.team_id)  # and hands both on
    session.commit()
    assert len(open_tasks_of(session, other.id)) == 2
