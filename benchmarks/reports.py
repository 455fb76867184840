"""Every report on N leads (default 100,000) with 10·N activities, against reading the same rows
raw.

Setup (untimed): seed 001's four departments; half a year of leads written straight into the tables
with the history a busy team leaves: owner and team events, touches and touch-stage events, status
changes (worked, recycled for no connect or a reason, disqualified, customers), MQL/SQL milestones,
approach requests, campaigns and their members, opportunities with stage events, 10 activities per
lead with a score-ledger line each.

Timed: each of the thirteen reports with its defaults (as ``leadops report NAME`` runs it) at a
fixed "now", after the worker's daily step has learned the forecast's model (timed and reported
apart). Then, in the same database, the raw speed: one plain ``SELECT`` of the columns the reports
read from each table they read, fetched in full (leads, lead events, touches, tasks, opportunities,
campaign members, the last week of the score ledger).
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text, update

from common import analyze, backend_of, bench_org, insert_in_chunks, on_fresh_database
from leadops.db import insert_plain
from leadops.models import Campaign, Lead, Opportunity, User
from leadops.reports import REPORTS, ReportParams, run_report
from leadops.reports.forecast import stored_model
from leadops.routing.org import apply_org, parse_org
from leadops.rules.service import active_rules
from leadops.runtime import Runtime

POINTS = {
    "page_view": 2,
    "email_open": 2,
    "email_click": 5,
    "content_download": 10,
    "form_submit": 15,
    "webinar_attend": 10,
}
OPEN_AND_LOST = ("to_contact", "contacted", "follow_up", "proposal_draft", "proposal_sent", "lost")
CAMPAIGN_TYPES = ("webinar", "tradeshow", "content", "email", "seminar")
DAYS = 182
EVENT_COLUMNS = (
    "lead_id",
    "at",
    "kind",
    "from_value",
    "to_value",
    "reason",
    "actor_kind",
    "actor_ref",
    "rules_version",
)

RAW_READS = {
    "leads": "SELECT id, created_at, source, account_id, is_valid, status, owner_id, "
    "lifecycle_stage, touch_stage, "
    "score, status_changed_at, next_due_at, email, company FROM leads",
    "lead_events": "SELECT lead_id, kind, at, from_value, to_value, reason FROM lead_events",
    "touches": "SELECT lead_id, user_id, at, outcome FROM touches",
    "tasks": "SELECT owner_id, state, due_at, completed_at FROM tasks",
    "opportunities": "SELECT lead_id, created_at, stage, closed_at, amount, stage_changed_at FROM "
    "opportunities",
    "campaign_members": "SELECT campaign_id, lead_id, first_responded_at, created_at FROM "
    "campaign_members",
    "score_ledger (7 days)": "SELECT lead_id, delta, at FROM score_ledger WHERE at >= :since",
}


def run(*, database_url: str | None, events: int, leads: int | None = None) -> dict[str, Any]:
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday noon in Tokyo
    count = leads or 100_000
    return on_fresh_database(
        database_url,
        now,
        lambda rt: _load(rt, count, now),
        lambda rt, url: _measure(rt, url, count, now),
    )


def _load(rt: Runtime, count: int, now: datetime) -> None:  # noqa: C901 (one history generator, read top-down)
    rng = random.Random(11)
    start = now - timedelta(days=DAYS)
    with rt.factory() as session, session.begin():
        version = active_rules(session, now).version
        apply_org(session, parse_org(bench_org()), now=start, tz=rt.settings.tz)
        reps = list(session.scalars(select(User.id).where(User.role.in_(("member", "marketing")))))
        campaigns = [
            {
                "name": f"{kind} {n}",
                "type": kind,
                "channel": kind,
                "cost": float(rng.randint(1, 20) * 100_000),
                "starts_on": (start + timedelta(days=n * 12)).date(),
                "created_at": start,
            }
            for kind in CAMPAIGN_TYPES
            for n in range(6)
        ]
        insert_in_chunks(session, Campaign, campaigns)
        campaign_ids = list(session.scalars(select(Campaign.id)))
        leads = []
        for i in range(count):
            created = start + timedelta(seconds=int(DAYS * 86400 * rng.random() ** 0.9))
            leads.append(
                {
                    "email": f"lead{i}@bench{i % 20_000}.co.jp",
                    "company": f"Bench {i % 20_000}",
                    "source": rng.choice(("展示会", "ウェビナー", "資料DL", "問い合わせ", None)),
                    "created_at": created,
                    "ingested_at": created,
                    "updated_at": created,
                    "lifecycle_stage": "inquiry",
                    "status": "new",
                    "touch_stage": "untouched",
                    "score": 0,
                    "behavior_score": 0,
                    "fit_score": 0,
                    "temperature": "cold",
                    "is_valid": True,
                    "custom": {},
                    "flags": [],
                    "group_scores": {},
                    "score_state": {},
                }
            )
        insert_in_chunks(session, Lead, leads)
        first_id = session.execute(text("SELECT min(id) FROM leads")).scalar_one()
        events: list[tuple[Any, ...]] = []
        touches: list[tuple[Any, ...]] = []
        tasks: list[tuple[Any, ...]] = []
        members: list[tuple[Any, ...]] = []
        opportunities: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for offset, lead in enumerate(leads):
            lead_id, created = first_id + offset, lead["created_at"]
            owner = rng.choice(reps)
            assigned = created + timedelta(minutes=rng.randint(3, 30))
            events.append(
                (lead_id, assigned, "owner", None, str(owner), None, "rule", "bench", version)
            )
            responded = rng.random() < 0.6
            members.append(
                (
                    rng.choice(campaign_ids),
                    lead_id,
                    "responded" if responded else "sent",
                    created if responded else None,
                    created,
                )
            )
            state = {
                "owner_id": owner,
                "assigned_at": assigned,
                "status": "new",
                "status_changed_at": None,
                "touch_stage": "untouched",
                "lifecycle_stage": "inquiry",
                "next_due_at": None,
                "score": rng.randint(0, 160),
            }
            if rng.random() < 0.2:
                due = assigned + timedelta(hours=48)
                done = assigned + timedelta(hours=rng.uniform(1, 70))
                finished = done <= now and rng.random() < 0.9
                tasks.append(
                    (
                        lead_id,
                        owner,
                        "approach_request",
                        "問合せ受付/MQL",
                        "inquiry-mql",
                        created,
                        due,
                        done if finished else None,
                        "done" if finished else "open",
                        f"bench:{lead_id}",
                    )
                )
            at, stage = assigned, "untouched"
            for n in range(rng.choice((0, 1, 1, 2, 3, 4, 4, 5))):
                at += timedelta(hours=rng.uniform(2, 60))
                if at > now:
                    break
                outcome = (
                    "connected" if n == 4 else rng.choice(("no_answer", "voicemail_left", "sent"))
                )
                new_stage = "connected" if outcome == "connected" else f"touch_{n + 1}"
                touches.append((lead_id, owner, at, "call", outcome))
                events.append(
                    (
                        lead_id,
                        at,
                        "touch_stage",
                        stage,
                        new_stage,
                        f"call: {outcome}",
                        "user",
                        str(owner),
                        version,
                    )
                )
                if state["status"] == "new":
                    events.append(
                        (lead_id, at, "status", "new", "lead", None, "user", str(owner), version)
                    )
                    state.update(status="lead", status_changed_at=at)
                stage = new_stage
            state["touch_stage"] = stage
            if stage == "touch_4" and at + timedelta(days=6) <= now:
                recycled = at + timedelta(days=6)
                events.append(
                    (
                        lead_id,
                        recycled,
                        "status",
                        "lead",
                        "recycled",
                        "no_connect",
                        "rule",
                        "recycle",
                        version,
                    )
                )
                state.update(status="recycled", status_changed_at=recycled)
            elif stage == "connected":
                if rng.random() < 0.35:
                    mql = at + timedelta(hours=rng.uniform(1, 48))
                    if mql <= now:
                        events.append(
                            (
                                lead_id,
                                mql,
                                "lifecycle_stage",
                                "inquiry",
                                "mql",
                                None,
                                "rule",
                                "mql",
                                version,
                            )
                        )
                        state["lifecycle_stage"] = "mql"
                        if rng.random() < 0.5 and mql + timedelta(days=3) <= now:
                            booked = mql + timedelta(days=rng.uniform(1, 3))
                            won = rng.random() < 0.4 and booked + timedelta(days=40) <= now
                            opp_stage = "won" if won else rng.choice(OPEN_AND_LOST)
                            closed = (
                                booked + timedelta(days=rng.uniform(10, 40))
                                if opp_stage in ("won", "lost")
                                else None
                            )
                            opportunities.append(
                                {
                                    "lead_id": lead_id,
                                    "stage": opp_stage,
                                    "created_at": booked,
                                    "stage_changed_at": closed or booked,
                                    "closed_at": closed,
                                    "amount": float(rng.randint(5, 100) * 100_000),
                                    "custom": {},
                                    "flags": [],
                                }
                            )
                            events.append(
                                (
                                    lead_id,
                                    booked,
                                    "lifecycle_stage",
                                    "mql",
                                    "opportunity",
                                    None,
                                    "user",
                                    str(owner),
                                    version,
                                )
                            )
                            state["lifecycle_stage"] = "opportunity"
                            if won and closed is not None:
                                events.append(
                                    (
                                        lead_id,
                                        closed,
                                        "status",
                                        state["status"],
                                        "customer",
                                        None,
                                        "user",
                                        str(owner),
                                        version,
                                    )
                                )
                                state.update(status="customer", status_changed_at=closed)
                elif rng.random() < 0.3:
                    gone = at + timedelta(days=rng.uniform(1, 10))
                    if gone <= now:
                        reason = rng.choice(("budget", "timing", "no_need"))
                        events.append(
                            (
                                lead_id,
                                gone,
                                "status",
                                "lead",
                                "recycled",
                                reason,
                                "user",
                                str(owner),
                                version,
                            )
                        )
                        state.update(status="recycled", status_changed_at=gone)
            if state["status"] in ("new", "lead") and stage != "connected":
                state["next_due_at"] = at + timedelta(hours=48)
            updates.append({"id": lead_id, **state})
        insert_plain(session, "lead_events", EVENT_COLUMNS, events)
        insert_plain(
            session, "touches", ("lead_id", "user_id", "at", "channel", "outcome"), touches
        )
        insert_plain(
            session,
            "tasks",
            (
                "lead_id",
                "owner_id",
                "kind",
                "subject",
                "rule_id",
                "created_at",
                "due_at",
                "completed_at",
                "state",
                "dedup_key",
            ),
            tasks,
        )
        insert_plain(
            session,
            "campaign_members",
            ("campaign_id", "lead_id", "status", "first_responded_at", "created_at"),
            members,
        )
        insert_in_chunks(session, Opportunity, opportunities)
        _update_leads(session, updates)
        _activities(session, rng, first_id, leads, now, version)
    analyze(rt)


def _update_leads(session: Any, updates: list[dict[str, Any]]) -> None:
    table = Lead.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("lead_id"))
        .values({name: bindparam(name) for name in updates[0] if name != "id"})
    )
    rows = [{**{k: v for k, v in u.items() if k != "id"}, "lead_id": u["id"]} for u in updates]
    for start in range(0, len(rows), 20_000):
        session.connection().execute(statement, rows[start : start + 20_000])


def _activities(
    session: Any,
    rng: random.Random,
    first_id: int,
    leads: list[dict[str, Any]],
    now: datetime,
    version: int,
) -> None:
    """Ten activities per lead, each with the score-ledger line it earned."""
    types = list(POINTS)
    activity_rows: list[tuple[Any, ...]] = []
    ledger_rows: list[tuple[Any, ...]] = []
    serial = 0
    for offset, lead in enumerate(leads):
        lead_id, created = first_id + offset, lead["created_at"]
        span = max((now - created).total_seconds(), 60.0)
        for _ in range(10):
            type_ = rng.choice(types)
            at = created + timedelta(seconds=span * rng.random() ** 2)
            serial += 1
            activity_rows.append((lead_id, type_, at, at, {}, "bench", f"a{serial}"))
            ledger_rows.append(
                (lead_id, f"bench-{type_}", version, "behavior", POINTS[type_], at, f"a{serial}")
            )
        if len(activity_rows) >= 100_000:
            _flush_activities(session, activity_rows, ledger_rows)
            activity_rows, ledger_rows = [], []
    _flush_activities(session, activity_rows, ledger_rows)


def _flush_activities(
    session: Any, activities: list[tuple[Any, ...]], ledger: list[tuple[Any, ...]]
) -> None:
    insert_plain(
        session,
        "activities",
        (
            "lead_id",
            "type",
            "occurred_at",
            "received_at",
            "properties",
            "source_system",
            "external_id",
        ),
        activities,
    )
    insert_plain(
        session,
        "score_ledger",
        ("lead_id", "rule_id", "rules_version", "score_group", "delta", "at", "line_key"),
        ledger,
    )


def _measure(rt: Runtime, url: str, count: int, now: datetime) -> dict[str, Any]:
    backend = backend_of(url)
    params = ReportParams(tz=rt.settings.tz, now=now)
    # What the worker does once a day: learn the forecast's model from the history (reported, not a
    # report).
    with rt.factory() as session:
        closed = active_rules(session, now).closed_statuses
        started = time.perf_counter()
        stored_model(session, now, rt.settings.tz, closed)
        model_seconds = round(time.perf_counter() - started, 3)
    timings: dict[str, float] = {}
    sizes: dict[str, int] = {}
    for name in sorted(REPORTS):
        with rt.factory() as session:
            started = time.perf_counter()
            result = run_report(session, name, params)
            timings[name] = round(time.perf_counter() - started, 3)
            sizes[name] = len(result.rows)
    raw: dict[str, float] = {}
    with rt.engine.connect() as connection:
        for table, sql in RAW_READS.items():
            started = time.perf_counter()
            connection.execute(text(sql), {"since": now - timedelta(days=7)}).all()
            raw[table] = round(time.perf_counter() - started, 3)
        activities = connection.execute(text("SELECT count(*) FROM activities")).scalar_one()
    slowest = max(timings, key=lambda n: timings[n])
    over = sorted(n for n, seconds in timings.items() if seconds >= 1.0)
    result = {
        "backend": backend,
        "leads": count,
        "activities": activities,
        "report_seconds": timings,
        "report_rows": sizes,
        "raw_read_seconds": raw,
        "raw_read_total_seconds": round(sum(raw.values()), 3),
        "slowest": slowest,
        "over_one_second": over,
        "forecast_model_seconds": model_seconds,
    }
    result["summary"] = (
        f"reports on {count:,} leads / {activities:,} activities on {backend}: "
        + ", ".join(f"{n} {s:.2f} s" for n, s in sorted(timings.items(), key=lambda kv: -kv[1]))
        + f"; raw reads of the same tables {sum(raw.values()):.2f} s in all (leads "
        f"{raw['leads']:.2f} s, "
        f"lead_events {raw['lead_events']:.2f} s); "
        + (f"over 1 s: {', '.join(over)}" if over else "every report under 1 s")
        + f"; the worker's daily forecast model took {model_seconds:.2f} s to learn"
    )
    return result
