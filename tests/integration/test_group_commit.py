"""A group commit of API posts (``store_activity_groups``) ends where the same posts stored one by
one end, and answers each post as storing it alone would have: its own rejects by its own indexes,
an event another post of the group sent first a duplicate, a new lead counted once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from leadops.db import run_in_transaction
from leadops.ingest.service import store_activities, store_activity_groups
from leadops.models import Activity, ImportJob, ImportReject, Lead, LeadEvent, ScoreLedger
from leadops.routing.org import apply_org, parse_org
from leadops.runtime import Runtime
from tests.conftest import JST, NOW
from tests.integration.test_concurrency import IS_ORG as ORG


def _posts(tag: str) -> list[list[dict[str, Any]]]:
    """Three posts: new leads, a reject, an event sent twice across posts, an unknown id."""

    def event(n: int, email: str, type_: str, **extra: Any) -> dict[str, Any]:
        at = (NOW - timedelta(hours=10 - n)).isoformat()
        return {
            "email": email,
            "type": type_,
            "occurred_at": at,
            "source": "web",
            "external_id": f"{tag}-{n}",
            **extra,
        }

    first, second = f"a-{tag}@corp.co.jp", f"b-{tag}@corp.co.jp"
    return [
        [
            event(1, first, "page_view", properties={"url": "/pricing"}),
            event(2, first, "no_such_type"),
            event(3, first, "form_submit", properties={"form": "inquiry"}),
        ],
        [
            event(3, first, "form_submit", properties={"form": "inquiry"}),  # sent before
            event(4, second, "content_download"),
            {"lead_external_id": "nobody", "type": "page_view", "occurred_at": "2026-11-22"},
            event(5, first, "email_click"),
        ],
        [event(4, second, "content_download"), event(6, second, "page_view")],
    ]


def _state(runtime: Runtime, tag: str) -> list[tuple[Any, ...]]:
    """What each lead of the posts ended as, and what its history holds."""
    with runtime.factory() as session:
        leads = session.scalars(
            select(Lead).where(Lead.email.like(f"%-{tag}@corp.co.jp")).order_by(Lead.email)
        ).all()
        out = []
        for lead in leads:
            kinds = session.execute(
                select(LeadEvent.kind, func.count())
                .where(LeadEvent.lead_id == lead.id)
                .group_by(LeadEvent.kind)
                .order_by(LeadEvent.kind)
            ).all()
            points = session.scalar(
                select(func.sum(ScoreLedger.delta)).where(ScoreLedger.lead_id == lead.id)
            )
            activities = session.scalar(
                select(func.count()).select_from(Activity).where(Activity.lead_id == lead.id)
            )
            out.append(
                (
                    lead.email.split("-")[0],
                    lead.created_at,
                    lead.score,
                    lead.temperature,
                    lead.level,
                    lead.status,
                    lead.touch_stage,
                    lead.owner_id is not None,
                    points,
                    activities,
                    [tuple(k) for k in kinds],
                )
            )
        return out


def test_a_group_of_posts_ends_as_the_same_posts_one_by_one(runtime: Runtime) -> None:
    with runtime.factory() as session, session.begin():
        apply_org(session, parse_org(ORG), now=NOW, tz=JST)
    settings = runtime.settings
    alone = [
        run_in_transaction(
            runtime.factory, lambda s, items=items: store_activities(s, settings, NOW, items)
        )
        for items in _posts("one")
    ]
    grouped = run_in_transaction(
        runtime.factory, lambda s: store_activity_groups(s, settings, NOW, _posts("grp"))
    )
    assert grouped == alone
    assert [(r["accepted"], r["duplicates"], r["new_leads"]) for r in grouped] == [
        (2, 0, 1),
        (2, 1, 1),
        (1, 1, 0),
    ]
    assert [[x["index"] for x in r["rejected"]] for r in grouped] == [[1], [2], []]
    assert grouped[1]["rejected"][0]["errors"][0]["path"] == "activities[2].lead_external_id"
    assert _state(runtime, "grp") == _state(runtime, "one")
    with runtime.factory() as session:
        jobs = session.scalars(
            select(ImportJob).where(ImportJob.kind == "api-activities").order_by(ImportJob.id)
        ).all()
        assert [(j.rows_total, j.rows_rejected) for j in jobs] == [(3, 1), (4, 1)] * 2
        rows = session.scalars(select(ImportReject).order_by(ImportReject.id)).all()
        assert [(r.job_id, r.row_number) for r in rows[2:]] == [
            (jobs[2].id, 1),
            (jobs[3].id, 2),
        ]
        assert rows[2].raw["type"] == "no_such_type"


def test_posting_a_group_again_changes_nothing(runtime: Runtime) -> None:
    with runtime.factory() as session, session.begin():
        apply_org(session, parse_org(ORG), now=NOW, tz=JST)
    settings = runtime.settings
    run_in_transaction(
        runtime.factory, lambda s: store_activity_groups(s, settings, NOW, _posts("g"))
    )
    before = _state(runtime, "g")
    again = run_in_transaction(
        runtime.factory, lambda s: store_activity_groups(s, settings, NOW, _posts("g"))
    )
    assert [(r["accepted"], r["new_leads"]) for r in again] == [(0, 0)] * 3
    assert [r["duplicates"] for r in again] == [2, 3, 2]
    assert _state(runtime, "g") == before
