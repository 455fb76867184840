"""Follow-ups over HTTP: scheduled from the lead page (a date and a time in the site's zone), shown
in the queue beside the approach requests when due today or overdue, marked done in place; the
refusals (a past time, another team's lead) in place, in the reader's language; and the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadops.auth import create_token
from leadops.clock import FixedClock
from leadops.models import FollowUpTask, Team, User
from leadops.runtime import Runtime
from leadops.web.app import create_app
from tests.factories import give, make_lead, make_user
from tests.webapp import Org, build_org, signed_in

HTMX = {"HX-Request": "true"}


def _tasks(session: Any) -> list[FollowUpTask]:
    session.rollback()  # what the app has committed since
    return list(session.scalars(select(FollowUpTask).order_by(FollowUpTask.id)))


def _schedule(client: TestClient, lead_id: int, day: str, at: str, note: str = "") -> Any:
    data = {"due_date": day, "due_time": at, "note": note}
    return client.post(f"/leads/{lead_id}/follow-ups", data=data, headers=HTMX)


def _other_team_lead(session: Any, runtime: Runtime) -> int:
    team = Team(name="大阪IS", kind="inside_sales", created_at=runtime.clock.now())
    session.add(team)
    session.flush()
    stranger = make_user(session, email="osaka@firm.test", team_id=team.id)
    lead = make_lead(session, runtime, email="x@osaka.example", company="大阪商事")
    give(session, runtime, lead, owner_id=stranger.id, team_id=team.id)
    session.commit()
    return lead.id


def test_a_rep_schedules_a_follow_up_from_the_lead_page_and_sees_it_on_the_timeline(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    rep = signed_in(runtime, org.users["member"])
    lead = org.leads[0]
    form = rep.get(f"/leads/{lead}").text
    assert 'id="follow-up-form"' in form
    assert 'name="due_date"' in form
    assert 'name="assignee"' not in form  # a member schedules for themselves only
    page = _schedule(rep, lead, "2026-11-25", "10:00", "5日10時に再架電")
    assert page.status_code == 200
    assert "Follow-up scheduled for 2026-11-25 10:00." in page.text
    (task,) = _tasks(session)
    assert task.due_at.isoformat() == "2026-11-25T01:00:00+00:00"  # 10:00 in Tokyo, kept in UTC
    assert task.assignee_id == org.users["member"]
    listed = page.text.split('id="follow-ups"')[1].split("</section>")[0]
    assert f'id="fu-{task.id}"' in listed
    assert "5日10時に再架電" in listed
    timeline = page.text.split('class="timeline"')[1]
    assert "Follow-up scheduled" in timeline
    assert "due 2026-11-25 10:00 for Member" in timeline
    again = _schedule(rep, lead, "2026-11-25", "10:00", "5日10時に再架電")
    assert "This follow-up was scheduled already." in again.text
    assert len(_tasks(session)) == 1
    moved = rep.post(
        f"/follow-ups/{task.id}/reschedule",
        data={"due_date": "2026-11-26", "due_time": "14:00"},
        headers=HTMX,
    )
    assert "Follow-up moved to 2026-11-26 14:00." in moved.text
    assert "2026-11-25 10:00 → due 2026-11-26 14:00" in moved.text.split('class="timeline"')[1]
    cancelled = rep.post(f"/follow-ups/{task.id}/cancel", headers=HTMX)
    assert "Follow-up cancelled." in cancelled.text
    assert "No follow-up is scheduled." in cancelled.text
    assert "Follow-up cancelled" in cancelled.text.split('class="timeline"')[1]


def test_a_past_time_or_a_bad_date_is_refused_in_place_naming_the_field(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    rep = signed_in(runtime, org.users["member"])
    past = _schedule(rep, org.leads[0], "2026-11-22", "10:00")
    assert past.status_code == 422
    assert past.headers["HX-Retarget"] == "#messages"
    assert "due_at" in past.text
    assert "the due time has passed" in past.text
    in_japanese = rep.post(
        f"/leads/{org.leads[0]}/follow-ups?lang=ja",
        data={"due_date": "2026-11-22", "due_time": "10:00"},
        headers=HTMX,
    )
    assert "期限の日時が過ぎています" in in_japanese.text
    assert "期限" in in_japanese.text
    bad = _schedule(rep, org.leads[0], "5日", "25:00")
    assert bad.status_code == 422
    assert "due_date" in bad.text
    assert "due_time" in bad.text
    assert _tasks(session) == []


def test_the_queue_shows_follow_ups_due_today_overdue_first_and_done_answers_in_place(
    runtime: Runtime, session: Any, clock: FixedClock
) -> None:
    org = build_org(session, runtime, leads=2)
    rep = signed_in(runtime, org.users["member"])
    _schedule(rep, org.leads[0], "2026-11-23", "15:00", "見積もりの確認")
    _schedule(rep, org.leads[1], "2026-11-23", "11:00", "再架電")
    _schedule(rep, org.leads[1], "2026-11-24", "10:00", "明日の分")
    later, sooner, tomorrow = (t.id for t in _tasks(session))
    clock.advance(timedelta(hours=3))  # 12:00 in Tokyo: the 11:00 one is overdue
    queue = rep.get("/queue").text
    section = queue.split('id="queue-follow-ups"')[1].split("</section>")[0]
    assert section.index(f'id="fu-{sooner}"') < section.index(f'id="fu-{later}"')
    assert f'id="fu-{tomorrow}"' not in section
    assert "2 due, 1 later" in section
    overdue = section.split(f'id="fu-{sooner}"')[1].split("</li>")[0]
    assert "Overdue" in overdue
    assert "2026-11-23 11:00" in overdue
    assert "Overdue" not in section.split(f'id="fu-{later}"')[1].split("</li>")[0]
    assert queue.index('id="queue-follow-ups"') < queue.index('class="grid queue"')
    done = rep.post(f"/follow-ups/{sooner}/done", data={"view": "queue"}, headers=HTMX)
    assert done.status_code == 200
    assert f'<li class="follow-up closed" id="fu-{sooner}"' in done.text
    assert "Follow-up done." in done.text
    twice = rep.post(f"/follow-ups/{sooner}/done", data={"view": "queue"}, headers=HTMX)
    assert "It was done already." in twice.text
    assert [t.state for t in _tasks(session)] == ["open", "done", "open"]
    assert f'id="fu-{sooner}"' not in rep.get("/queue").text


def test_a_member_cannot_schedule_on_another_teams_lead_nor_close_anothers_follow_up(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    theirs = _other_team_lead(session, runtime)
    rep = signed_in(runtime, org.users["member"])
    assert 'id="follow-up-form"' not in rep.get(f"/leads/{theirs}").text
    refused = _schedule(rep, theirs, "2026-11-25", "10:00")
    assert refused.status_code == 403
    assert refused.headers["HX-Retarget"] == "#messages"
    assert "works only on its own leads" in refused.text
    manager = signed_in(runtime, org.users["manager"])
    form = manager.get(f"/leads/{org.leads[0]}").text
    assert 'name="assignee"' in form
    assert f'value="{org.users["member2"]}"' in form
    data = {"due_date": "2026-11-25", "due_time": "16:30", "assignee": org.users["member2"]}
    page = manager.post(f"/leads/{org.leads[0]}/follow-ups", data=data, headers=HTMX)
    assert page.status_code == 200
    (task,) = _tasks(session)
    assert task.assignee_id == org.users["member2"]
    assert task.created_by_id == org.users["manager"]
    not_theirs = rep.post(f"/follow-ups/{task.id}/done", data={"view": "queue"}, headers=HTMX)
    assert not_theirs.status_code == 403
    assert _tasks(session)[0].state == "open"
    marketing = signed_in(runtime, org.users["marketing"])
    assert _schedule(marketing, org.leads[0], "2026-11-25", "10:00").status_code == 403


def _token_client(runtime: Runtime, user_id: int) -> TestClient:
    with runtime.factory() as session, session.begin():
        user = session.get_one(User, user_id)
        token, _ = create_token(session, user, name="t", scope="write", now=runtime.clock.now())
    return TestClient(create_app(runtime), headers={"Authorization": f"Bearer {token}"})


def _api_org(session: Any, runtime: Runtime) -> tuple[Org, TestClient]:
    org = build_org(session, runtime, leads=2)
    return org, _token_client(runtime, org.users["member"])


def test_the_api_schedules_once_lists_overdue_first_and_closes_idempotently(
    runtime: Runtime, session: Any, clock: FixedClock
) -> None:
    org, api = _api_org(session, runtime)
    body = {"due_at": "2026-11-24T10:00:00+09:00", "note": "再架電"}
    made = api.post("/api/v1/leads/lead0@customer0.co.jp/tasks", json=body)
    assert made.status_code == 201, made.text
    task = made.json()
    assert task["due_at"].startswith("2026-11-24T01:00:00")
    assert task["state"] == "open"
    again = api.post("/api/v1/leads/lead0@customer0.co.jp/tasks", json=body)
    assert again.status_code == 200
    assert again.json()["id"] == task["id"]
    naive = {"due_at": "2026-11-23 10:00"}  # the site's time zone: an hour from now
    sooner = api.post(f"/api/v1/leads/{org.leads[1]}/tasks", json=naive).json()
    assert sooner["due_at"].startswith("2026-11-23T01:00:00")
    clock.advance(timedelta(hours=2))
    listed = api.get("/api/v1/tasks").json()
    assert [t["id"] for t in listed] == [sooner["id"], task["id"]]
    done = api.post(f"/api/v1/tasks/{task['id']}/done")
    assert done.status_code == 200
    assert done.json()["changed"] is True
    assert done.json()["state"] == "done"
    assert api.post(f"/api/v1/tasks/{task['id']}/done").json()["changed"] is False
    assert api.post(f"/api/v1/tasks/{task['id']}/cancel").status_code == 409
    move = {"due_at": "2026-11-30T09:30:00+09:00"}
    assert api.post(f"/api/v1/tasks/{task['id']}/reschedule", json=move).status_code == 409
    moved = api.post(f"/api/v1/tasks/{sooner['id']}/reschedule", json=move)
    assert moved.status_code == 200
    assert moved.json()["due_at"].startswith("2026-11-30T00:30:00")
    assert moved.json()["changed"] is True
    assert [t["id"] for t in api.get("/api/v1/tasks").json()] == [sooner["id"]]
    assert api.post("/api/v1/tasks/999999/done").status_code == 404


def test_the_api_refuses_a_past_time_a_bad_one_and_another_teams_lead(
    runtime: Runtime, session: Any
) -> None:
    org, api = _api_org(session, runtime)
    theirs = _other_team_lead(session, runtime)
    past = api.post(f"/api/v1/leads/{org.leads[0]}/tasks", json={"due_at": "2026-11-01T10:00"})
    assert past.status_code == 422
    assert [e["path"] for e in past.json()["detail"]] == ["due_at"]
    bad = api.post(f"/api/v1/leads/{org.leads[0]}/tasks", json={"due_at": "someday"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["path"] == "due_at"
    long_note = {"due_at": "2026-11-25T10:00", "note": "x" * 501}
    assert api.post(f"/api/v1/leads/{org.leads[0]}/tasks", json=long_note).status_code == 422
    other = api.post(f"/api/v1/leads/{theirs}/tasks", json={"due_at": "2026-11-25T10:00"})
    assert other.status_code == 403
    for_another = {"due_at": "2026-11-25T10:00", "assignee": "rep2@firm.test"}
    assert api.post(f"/api/v1/leads/{org.leads[0]}/tasks", json=for_another).status_code == 403
    assert _tasks(session) == []
