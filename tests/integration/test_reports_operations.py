"""dwell, recycle-reasons, tasks, new-leads, score-jumps, campaigns and forecast on histories built
here, each checked against figures worked out by hand in the test."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.cadence.service import change_status, log_touch
from leadops.ingest.service import store_activities
from leadops.models import (
    Campaign,
    CampaignMember,
    ForecastModel,
    Lead,
    LeadEvent,
    Opportunity,
    Task,
    Touch,
    User,
)
from leadops.reports import ReportParams, run_report
from leadops.reports.forecast import History, forecast_at, present_states, stored_model
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from leadops.worker import run_once
from tests.conftest import JST, NOW
from tests.factories import force_state, make_lead


def lead(session: Session, runtime: Runtime, n: int, created: datetime, **fields: Any) -> Lead:
    row = make_lead(session, runtime, email=f"p{n}@firm{n}.co.jp", company=f"Firm {n}", **fields)
    row.created_at = created
    session.flush()
    return row


def user(session: Session, email: str) -> User:
    row = User(
        email=email,
        name=email,
        role="member",
        active=True,
        routing_weight=1.0,
        locale="ja",
        created_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


def event(
    session: Session,
    lead_id: int,
    at: datetime,
    kind: str,
    old: str | None,
    new: str,
    reason: str | None = None,
) -> None:
    session.add(
        LeadEvent(
            lead_id=lead_id,
            at=at,
            kind=kind,
            from_value=old,
            to_value=new,
            reason=reason,
            actor_kind="user",
            actor_ref=None,
        )
    )


def rows_of(session: Session, name: str, **params: Any) -> Any:
    return run_report(session, name, ReportParams(tz=JST, now=params.pop("now", NOW), **params))


def test_dwell_counts_days_in_the_current_status_and_lists_leads_past_their_deadline(
    runtime: Runtime, session: Session
) -> None:
    a = lead(session, runtime, 1, NOW - timedelta(days=10))
    b = lead(session, runtime, 2, NOW - timedelta(days=6))
    c = lead(session, runtime, 3, NOW - timedelta(days=3))
    force_state(session, a, status="lead", status_changed_at=NOW - timedelta(days=4))
    force_state(session, b, status="lead", status_changed_at=NOW - timedelta(days=2))
    force_state(session, c, status_changed_at=None)  # never changed: dwell counts from creation
    c.next_due_at = NOW - timedelta(hours=5)
    b.next_due_at = NOW + timedelta(hours=5)
    session.commit()
    result = rows_of(session, "dwell")
    by_status = {r["status"]: r for r in result.as_dicts()}
    assert by_status["lead"]["leads"] == 2
    assert by_status["lead"]["mean_days"] == 3.0
    assert by_status["lead"]["median_days"] == 3.0
    assert by_status["lead"]["max_days"] == 4.0
    assert by_status["lead"]["past_deadline"] == 0
    assert (by_status["new"]["mean_days"], by_status["new"]["past_deadline"]) == (3.0, 1)
    stale = result.sections["past_deadline"]["rows"]
    assert [(r[0], r[6]) for r in stale] == [(c.id, 5.0)]
    assert {r[0]: r[6] for r in result.sections["leads"]["rows"]} == {
        a.id: 4.0,
        b.id: 2.0,
        c.id: 3.0,
    }
    # Leads created before the range are left out.
    later = rows_of(session, "dwell", start=NOW - timedelta(days=7))
    assert sum(r["leads"] for r in later.as_dicts()) == 2


def test_recycle_reasons_name_the_status_and_touch_stage_left(
    runtime: Runtime, session: Session
) -> None:
    rules = active_rules(session, NOW)
    rep = user(session, "rep@x.jp")
    leads = [lead(session, runtime, n, NOW - timedelta(days=30)) for n in range(4)]
    start = NOW - timedelta(days=20)
    for n, row in enumerate(leads):
        change_status(session, rules, row.id, "lead", reason=None, now=start)
        for k in range(n):  # lead n reaches touch_n
            log_touch(
                session,
                rules,
                row.id,
                user=rep,
                channel="call",
                outcome="no_answer",
                at=start + timedelta(hours=k + 1),
                now=start + timedelta(hours=k + 1),
            )
    change_status(
        session,
        rules,
        leads[0].id,
        "recycled",
        reason="timing",
        now=start + timedelta(days=1),
    )
    change_status(
        session,
        rules,
        leads[2].id,
        "recycled",
        reason="no_connect",
        now=start + timedelta(days=2),
    )
    change_status(
        session,
        rules,
        leads[3].id,
        "recycled",
        reason="no_connect",
        now=start + timedelta(days=3),
    )
    # Back to work and touched after the recycle: that does not change what the lead left.
    change_status(session, rules, leads[3].id, "lead", reason=None, now=start + timedelta(days=4))
    log_touch(
        session,
        rules,
        leads[3].id,
        user=rep,
        channel="call",
        outcome="connected",
        at=start + timedelta(days=4),
        now=start + timedelta(days=4),
    )
    session.commit()
    result = rows_of(session, "recycle-reasons")
    got = sorted(
        (r["reason"], r["from_status"], r["from_touch_stage"], r["leads"])
        for r in result.as_dicts()
    )
    assert got == [
        ("no_connect", "lead", "touch_2", 1),
        ("no_connect", "lead", "touch_3", 1),
        ("timing", "lead", "untouched", 1),
    ]
    assert result.sections["by_reason"]["rows"][0] == ["no_connect", 2, round(2 / 3, 4)]
    assert (
        rows_of(session, "recycle-reasons", start=start + timedelta(days=1, hours=1)).as_dicts()[0][
            "leads"
        ]
        == 1
    )


def test_tasks_judge_the_sla_and_time_to_first_touch(runtime: Runtime, session: Session) -> None:
    amy, bob = user(session, "amy@x.jp"), user(session, "bob@x.jp")
    leads = [lead(session, runtime, n, NOW - timedelta(days=5)) for n in range(4)]
    created = NOW - timedelta(days=5)
    due = created + timedelta(hours=48)
    specs = [
        (amy, "done", created + timedelta(hours=10)),
        (amy, "done", created + timedelta(hours=60)),
        (amy, "open", None),
        (bob, "open", None),
        (bob, "cancelled", None),
    ]
    for n, (owner, state, completed) in enumerate(specs):
        session.add(
            Task(
                lead_id=leads[n % 4].id,
                owner_id=owner.id,
                subject="問合せ受付/MQL",
                created_at=created,
                due_at=due if n != 3 else NOW + timedelta(hours=1),
                completed_at=completed,
                state=state,
            )
        )
    for n, (who, hours) in enumerate([(amy, 2), (amy, 6), (amy, 7), (bob, 30)]):
        session.add(
            Touch(
                lead_id=leads[n].id,
                user_id=who.id,
                at=created + timedelta(hours=hours),
                channel="call",
                outcome="no_answer",
            )
        )
    session.add(
        Touch(
            lead_id=leads[0].id,
            user_id=bob.id,
            at=created + timedelta(hours=50),
            channel="call",
            outcome="connected",
        )
    )  # a later touch is not a first touch
    session.commit()
    rows = {r["owner"]: r for r in rows_of(session, "tasks").as_dicts()}
    assert (rows["amy@x.jp"]["open"], rows["amy@x.jp"]["done"], rows["amy@x.jp"]["overdue"]) == (
        1,
        2,
        1,
    )
    assert (rows["amy@x.jp"]["done_on_time"], rows["amy@x.jp"]["done_late"]) == (1, 1)
    assert rows["amy@x.jp"]["sla_compliance"] == round(1 / 3, 4)
    assert rows["amy@x.jp"]["first_touch_hours_median"] == 6.0
    assert rows["amy@x.jp"]["first_touches"] == 3
    assert (
        rows["bob@x.jp"]["overdue"],
        rows["bob@x.jp"]["cancelled"],
        rows["bob@x.jp"]["sla_compliance"],
    ) == (
        0,
        1,
        None,
    )
    assert rows["bob@x.jp"]["first_touch_hours_median"] == 30.0


def test_new_leads_windows_follow_the_tokyo_calendar(runtime: Runtime, session: Session) -> None:
    # NOW is Monday 2026-11-23 09:00 in Tokyo.
    monday_early = datetime(2026, 11, 23, 0, 30, tzinfo=JST)  # still Sunday in UTC
    lead(session, runtime, 1, monday_early, source="展示会")
    lead(session, runtime, 2, NOW - timedelta(hours=1), source="ウェビナー")
    lead(
        session, runtime, 3, datetime(2026, 11, 22, 23, 59, tzinfo=JST), source="展示会"
    )  # Sunday: last week
    lead(session, runtime, 4, datetime(2026, 11, 1, 0, 0, tzinfo=JST), source="展示会")
    lead(
        session, runtime, 5, datetime(2026, 10, 31, 23, 59, tzinfo=JST), source="展示会"
    )  # last month
    hot = session.scalar(select(Lead).where(Lead.email == "p2@firm2.co.jp"))
    assert hot is not None
    hot.score = 120
    session.commit()
    result = rows_of(session, "new-leads")
    counts = {(r["window"], r["value"]): r["leads"] for r in result.as_dicts()}
    assert {k: v for k, v in counts.items() if k[0] == "today"} == {
        ("today", "ウェビナー"): 1,
        ("today", "展示会"): 1,
    }
    assert {k: v for k, v in counts.items() if k[0] == "this_week"} == {
        ("this_week", "cold (0–39)"): 1,
        ("this_week", "hot (100+)"): 1,
    }
    assert counts[("this_month", "new")] == 4
    assert result.sections["this_week"]["rows"][0][1] == "p2@firm2.co.jp"  # highest score first


def test_score_jumps_by_day_at_tokyo_day_boundaries(runtime: Runtime, session: Session) -> None:
    make_lead(session, runtime, email="jump@firm.co.jp", company="Firm")
    make_lead(session, runtime, email="slow@firm.co.jp", company="Firm")
    session.commit()

    def blog(email: str, at: datetime, key: str) -> None:  # +2 points each under the default rules
        store_activities(
            session,
            runtime.settings,
            NOW,
            [
                {
                    "email": email,
                    "type": "page_view",
                    "occurred_at": at.isoformat(),
                    "properties": {"url": "/blog/post"},
                    "external_id": key,
                }
            ],
        )
        session.commit()

    # Saturday 23:50 in Tokyo, then four views just after Tokyo's midnight: Sunday has 8 points (a
    # UTC day would have put all five, 10 points, on Saturday).
    blog("jump@firm.co.jp", datetime(2026, 11, 21, 23, 50, tzinfo=JST), "a")
    for k in range(4):
        blog("jump@firm.co.jp", datetime(2026, 11, 22, 0, 10 + k, tzinfo=JST), f"b{k}")
    blog("slow@firm.co.jp", datetime(2026, 11, 22, 12, 0, tzinfo=JST), "c")
    assert rows_of(session, "score-jumps").rows == []
    assert [
        (r["date"], r["email"], r["rise"])
        for r in rows_of(session, "score-jumps", threshold=8).as_dicts()
    ] == [("2026-11-22", "jump@firm.co.jp", 8)]
    blog("jump@firm.co.jp", datetime(2026, 11, 22, 23, 59, tzinfo=JST), "d")
    result = rows_of(session, "score-jumps")
    assert [(r["date"], r["email"], r["rise"], r["score_now"]) for r in result.as_dicts()] == [
        ("2026-11-22", "jump@firm.co.jp", 10, 12)
    ]
    assert result.sections["by_date_status"]["rows"] == [["2026-11-22", "new", 1]]
    # A range that ends on Saturday does not see Sunday's rise.
    assert (
        rows_of(
            session, "score-jumps", end=datetime(2026, 11, 22, tzinfo=JST), threshold=2
        ).as_dicts()[0]["date"]
        == "2026-11-21"
    )


def test_campaigns_against_the_mean_of_their_type(runtime: Runtime, session: Session) -> None:
    start = datetime(2026, 10, 1, 10, 0, tzinfo=JST)
    camps = [
        Campaign(
            name=f"seminar {i}",
            type="seminar",
            cost=cost,
            starts_on=date(2026, 10, i + 1),
            created_at=start,
        )
        for i, cost in enumerate([100_000.0, 200_000.0, 300_000.0])
    ]
    camps.append(
        Campaign(
            name="whitepaper",
            type="content",
            cost=50_000.0,
            starts_on=date(2026, 10, 5),
            created_at=start,
        )
    )
    session.add_all(camps)
    session.flush()
    # seminar i: 10 members, i+1 appointments after joining; one appointment booked before joining
    # never counts.
    n = 0
    for i, camp in enumerate(camps):
        for k in range(10 if i < 3 else 4):
            row = lead(session, runtime, n, start)
            n += 1
            session.add(
                CampaignMember(
                    campaign_id=camp.id,
                    lead_id=row.id,
                    status="attended",
                    first_responded_at=start if k < 5 else None,
                    created_at=start,
                )
            )
            if k <= i:
                session.add(
                    Opportunity(
                        lead_id=row.id,
                        stage="to_contact",
                        created_at=start + timedelta(days=3),
                        stage_changed_at=start + timedelta(days=3),
                        custom={},
                        flags=[],
                    )
                )
            elif k == 9:
                session.add(
                    Opportunity(
                        lead_id=row.id,
                        stage="to_contact",
                        created_at=start - timedelta(days=3),
                        stage_changed_at=start - timedelta(days=3),
                        custom={},
                        flags=[],
                    )
                )
    session.commit()
    result = rows_of(session, "campaigns", start=datetime(2026, 10, 1, tzinfo=JST))
    rows = {r["campaign"]: r for r in result.as_dicts()}
    assert [rows[f"seminar {i}"]["appointments"] for i in range(3)] == [1, 2, 3]
    assert [rows[f"seminar {i}"]["cost_per_appointment"] for i in range(3)] == [
        100_000.0,
        100_000.0,
        100_000.0,
    ]
    assert rows["seminar 0"]["response_rate"] == 0.5
    against = {(r[0], r[3]): r for r in result.sections["against_type_average"]["rows"]}
    assert against[("seminar 0", "appointments")][4:] == [1, 2.0, -1.0]
    assert against[("seminar 2", "appointments")][4:] == [3, 2.0, 1.0]
    assert against[("seminar 1", "appointment_rate")][5] == round(
        statistics.fmean([0.1, 0.2, 0.3]), 4
    )
    assert against[("whitepaper", "appointments")][2:] == [1, "appointments", 4, 4.0, 0.0]
    # Campaigns starting before the range are left out.
    assert {
        r["campaign"]
        for r in rows_of(session, "campaigns", start=datetime(2026, 10, 3, tzinfo=JST)).as_dicts()
    } == {"seminar 2", "whitepaper"}


def touch_2_months(session: Session, runtime: Runtime) -> None:
    """Three months in which, on the 10th, 20 open leads sit at touch_2 and 5 of them book before
    month end (the others are disqualified at month end); this month 8 such leads are open on the
    10th and 3 are already booked. The leads' own columns say what their last events say."""
    n = 0

    def cohort(
        month_start: datetime, open_count: int, booked_later: int, booked_before: int
    ) -> None:
        nonlocal n
        snapshot = month_start + timedelta(days=9)
        next_month = (month_start + timedelta(days=32)).replace(day=1)
        for k in range(open_count + booked_before):
            row = lead(session, runtime, n, month_start - timedelta(days=20))
            n += 1
            force_state(session, row, status="lead", touch_stage="touch_2")
            event(session, row.id, month_start - timedelta(days=19), "status", "new", "lead")
            event(
                session,
                row.id,
                month_start - timedelta(days=18),
                "touch_stage",
                "untouched",
                "touch_1",
            )
            event(
                session,
                row.id,
                month_start - timedelta(days=17),
                "touch_stage",
                "touch_1",
                "touch_2",
            )
            if (
                booked_later <= k < open_count and month_start.month < 11
            ):  # not booked: closed at month end
                event(
                    session,
                    row.id,
                    next_month - timedelta(days=1),
                    "status",
                    "lead",
                    "disqualified_sales",
                )
                force_state(session, row, status="disqualified_sales")
            if k < booked_later or k >= open_count:
                when = (
                    snapshot + timedelta(days=5) if k < open_count else snapshot - timedelta(days=2)
                )
                session.add(
                    Opportunity(
                        lead_id=row.id,
                        stage="to_contact",
                        created_at=when,
                        stage_changed_at=when,
                        custom={},
                        flags=[],
                    )
                )

    for month in (8, 9, 10):
        cohort(datetime(2026, month, 1, tzinfo=JST), 20, 5, 0)
    cohort(datetime(2026, 11, 1, tzinfo=JST), 8, 0, 3)


def test_forecast_learns_the_rate_of_each_state_from_earlier_months(
    runtime: Runtime, session: Session
) -> None:
    """Expect 3 booked + 8 open touch_2 leads × 5/20."""
    touch_2_months(session, runtime)
    session.commit()
    now = datetime(2026, 11, 10, tzinfo=JST)
    history = History(session, active_rules(session, now).closed_statuses)
    f = forecast_at(history, now, JST)
    assert (f.booked, f.open_leads, f.training_months) == (3, 8, 3)
    assert round(f.from_open_leads, 6) == 8 * 5 / 20
    assert f.from_new_leads == 0.0
    assert f.low <= f.expected <= f.high
    result = rows_of(session, "forecast", now=now, backtest=True)
    assert result.as_dicts()[0]["expected"] == 5.0
    backtest = {(r[0], r[1]): r for r in result.sections["backtest"]["rows"]}
    # October, forecast on the 10th from August and September: 5 booked later of 20, as it happened.
    assert backtest[("2026-10", 10)][3] == 5.0
    assert backtest[("2026-10", 10)][6] == 5
    assert backtest[("2026-10", 10)][7] == 0.0
    assert result.sections["backtest_mape"]["rows"][-1][0] == "all"


def test_forecast_reads_todays_leads_and_keeps_the_days_model(
    runtime: Runtime, session: Session
) -> None:
    """The report reads the open leads as they stand and the day's stored model, and gives what
    replaying the whole history gives; the model is learned once a day (by the worker's sweep), and
    again when the history before the month changes."""
    touch_2_months(session, runtime)
    session.commit()
    now = datetime(2026, 11, 10, 12, 0, tzinfo=JST)
    closed = active_rules(session, now).closed_statuses
    assert present_states(session, now, JST, closed) == (
        3,
        Counter({("lead", "touch_2", "15-30d"): 8}),
    )
    assert (
        present_states(session, now - timedelta(days=10), JST, closed) is None
    )  # things happened since
    assert run_once(runtime, now).forecast_model_learned is True
    assert run_once(runtime, now).forecast_model_learned is False
    replayed = forecast_at(History(session, closed), now, JST)
    row = rows_of(session, "forecast", now=now).as_dicts()[0]
    assert (row["booked"], row["open_leads"], row["from_open_leads"]) == (3, 8, 2.0)
    assert (row["low_80"], row["high_80"]) == (round(replayed.low, 1), round(replayed.high, 1))
    assert row["expected"] == round(replayed.expected, 1) == 5.0
    session.commit()  # a fresh snapshot: the model was stored in a transaction of its own
    assert session.scalar(select(func.count()).select_from(ForecastModel)) == 1
    # A lead of September, imported late: the history the model learned from changed.
    late = lead(session, runtime, 999, datetime(2026, 9, 2, tzinfo=JST))
    force_state(session, late, status="disqualified_sales")
    session.commit()
    _, learned = stored_model(session, now, JST, closed)
    assert learned is True
    session.commit()
    assert stored_model(session, now + timedelta(hours=3), JST, closed)[1] is False  # the same day
    assert stored_model(session, now + timedelta(days=1), JST, closed)[1] is True  # a new day
