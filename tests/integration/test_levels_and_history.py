"""Seed 001's levels, the score at any past moment, score jumps by Tokyo day, and rescore ==
incremental."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.ingest.activities import ingest_activities
from leadops.leads import find_lead
from leadops.models import Lead, LeadEvent, ScoreLedger
from leadops.pipeline import rescore_all
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from leadops.scoring.queries import score_at, score_jumps
from leadops.worker import run_once
from tests.conftest import JST, NOW
from tests.factories import ingest_context


def ingest(
    session: Session,
    runtime: Runtime,
    email: str,
    events: list[tuple[str, dict[str, Any], datetime]],
    prefix: str = "",
) -> None:
    items = [
        {
            "email": email,
            "type": t,
            "properties": p,
            "occurred_at": at.isoformat(),
            "external_id": f"{prefix}{email}-{t}-{at.isoformat()}-{i}",
        }
        for i, (t, p, at) in enumerate(events)
    ]
    ingest_activities(ingest_context(session, runtime), items)
    session.flush()


LEVEL_TABLE = [
    ("trade show, no booth visit", [("tradeshow_attend", {})], 1),
    ("download e-mail opened", [("email_open", {"email_id": "download-guide"})], 2),
    ("content downloaded", [("content_download", {"asset": "a.pdf"})], 2),
    ("webinar registered and attended", [("webinar_register", {}), ("webinar_attend", {})], 3),
    (
        "booth visit with a detailed talk",
        [("tradeshow_attend", {}), ("booth_visit", {"detailed_talk": True})],
        4,
    ),
    (
        "webinar attended, survey asks for contact",
        [
            ("webinar_register", {}),
            ("webinar_attend", {}),
            ("survey_answer", {"contact_request": True}),
        ],
        4,
    ),
    (
        "webinar attended, survey without contact",
        [("webinar_attend", {}), ("survey_answer", {"contact_request": False})],
        3,
    ),
    ("registered but did not attend", [("webinar_register", {}), ("webinar_no_show", {})], None),
    (
        "booth visit without a talk",
        [("tradeshow_attend", {}), ("booth_visit", {"detailed_talk": False})],
        1,
    ),
]


@pytest.mark.parametrize(("case", "events", "level"), LEVEL_TABLE, ids=[c[0] for c in LEVEL_TABLE])
def test_seed_001_levels(
    session: Session,
    runtime: Runtime,
    case: str,
    events: list[tuple[str, dict[str, Any]]],
    level: int | None,
) -> None:
    start = NOW - timedelta(days=3)
    ingest(
        session,
        runtime,
        "a@x.co.jp",
        [(t, p, start + timedelta(hours=i)) for i, (t, p) in enumerate(events)],
    )
    assert find_lead(session, "a@x.co.jp").level == level


def test_the_highest_level_wins_and_each_change_is_an_event(
    session: Session, runtime: Runtime
) -> None:
    start = NOW - timedelta(days=5)
    ingest(session, runtime, "a@x.co.jp", [("tradeshow_attend", {}, start)])
    ingest(session, runtime, "a@x.co.jp", [("content_download", {}, start + timedelta(days=1))])
    ingest(session, runtime, "a@x.co.jp", [("email_open", {}, start + timedelta(days=2))])
    ingest(
        session,
        runtime,
        "a@x.co.jp",
        [("booth_visit", {"detailed_talk": True}, start + timedelta(days=3))],
    )
    lead = find_lead(session, "a@x.co.jp")
    events = session.execute(
        select(LeadEvent.from_value, LeadEvent.to_value, LeadEvent.actor_ref)
        .where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "level")
        .order_by(LeadEvent.id)
    ).all()
    assert [tuple(e) for e in events] == [
        (None, "1", "level-1-tradeshow"),
        ("1", "2", "level-2-download-mail"),
        ("2", "4", "level-4-booth-talk"),
    ]


def test_score_at_any_moment_and_jumps_by_tokyo_day(session: Session, runtime: Runtime) -> None:
    # 23:59 and 00:00 JST fall on different days although both are the same UTC day.
    late_on_the_20th = datetime(2026, 11, 20, 23, 59, tzinfo=JST)
    start_of_the_21st = datetime(2026, 11, 21, 0, 0, tzinfo=JST)
    ingest(session, runtime, "a@x.co.jp", [("content_download", {}, late_on_the_20th)])
    ingest(
        session,
        runtime,
        "a@x.co.jp",
        [("email_click", {}, start_of_the_21st), ("blog", {}, start_of_the_21st)][:1],
    )
    ingest(
        session,
        runtime,
        "b@x.co.jp",
        [("trial_signup", {}, start_of_the_21st + timedelta(hours=12))],
    )
    ingest(
        session,
        runtime,
        "c@x.co.jp",
        [("email_open", {}, datetime(2026, 11, 21, 23, 59, 59, tzinfo=JST))],
    )
    rules = active_rules(session, NOW)
    a = find_lead(session, "a@x.co.jp")
    assert score_at(session, a.id, late_on_the_20th - timedelta(seconds=1), rules) == 0
    assert score_at(session, a.id, late_on_the_20th, rules) == 10
    assert score_at(session, a.id, start_of_the_21st, rules) == 15
    on_20th = {j.lead_id: j.rise for j in score_jumps(session, rules, date(2026, 11, 20), JST)}
    on_21st = {j.lead_id: j.rise for j in score_jumps(session, rules, date(2026, 11, 21), JST)}
    b = find_lead(session, "b@x.co.jp")
    assert on_20th == {a.id: 10}
    assert on_21st == {b.id: 25}  # a rose only 5 on the 21st; c only 2
    assert {
        j.lead_id for j in score_jumps(session, rules, date(2026, 11, 21), JST, min_rise=5)
    } == {a.id, b.id}


TYPES = [
    ("email_open", {}),
    ("email_click", {}),
    ("page_view", {"url": "/pricing"}),
    ("page_view", {"url": "/blog/x"}),
    ("content_download", {}),
    ("trial_signup", {}),
    ("unsubscribe", {}),
    ("form_submit", {"form": "inquiry"}),
    ("webinar_attend", {}),
    ("tradeshow_attend", {}),
]


def ledger(session: Session, version: int) -> dict[str, list[tuple[Any, ...]]]:
    rows = session.execute(
        select(
            Lead.email, ScoreLedger.rule_id, ScoreLedger.delta, ScoreLedger.at, ScoreLedger.line_key
        )
        .join(Lead, Lead.id == ScoreLedger.lead_id)
        .where(ScoreLedger.rules_version == version)
    ).all()
    out: dict[str, list[tuple[Any, ...]]] = {}
    for email, *rest in rows:
        out.setdefault(email, []).append(tuple(rest))
    return {k: sorted(v) for k, v in out.items()}


@pytest.mark.parametrize("seed", range(8))
def test_rescoring_any_event_stream_gives_the_incremental_result(
    runtime: Runtime, seed: int
) -> None:
    """Events arrive in random order and batches, with decay sweeps in between; a full rescore at
    the end must produce exactly the same ledger and scores."""
    rng = random.Random(seed)
    start = NOW - timedelta(days=200)
    stream = []
    for i in range(60):
        type_, props = rng.choice(TYPES)
        at = start + timedelta(days=rng.uniform(0, 190), minutes=rng.randint(0, 59))
        stream.append(
            {
                "email": f"p{rng.randint(0, 3)}@x.co.jp",
                "type": type_,
                "properties": props,
                "occurred_at": at.isoformat(),
                "external_id": f"s{seed}-{i}",
            }
        )
    rng.shuffle(stream)
    while stream:
        size = rng.randint(1, 12)
        batch, stream = stream[:size], stream[size:]
        # A batch arrives some time after its newest event (late, out of order, never after NOW).
        newest = max(datetime.fromisoformat(str(item["occurred_at"])) for item in batch)
        arrived = min(newest + timedelta(days=rng.uniform(0, 40)), NOW)
        with runtime.factory() as session, session.begin():
            ctx = ingest_context(session, runtime)
            ctx.now = arrived
            ingest_activities(ctx, batch)
        run_once(runtime, arrived)
    run_once(runtime, NOW)
    with runtime.factory() as session:
        version = active_rules(session, NOW).version
        incremental = ledger(session, version)
        scores = dict(session.execute(select(Lead.email, Lead.score)).all())
    rescore_all(runtime.factory, NOW)
    with runtime.factory() as session:
        assert ledger(session, version) == incremental
        assert dict(session.execute(select(Lead.email, Lead.score)).all()) == scores
