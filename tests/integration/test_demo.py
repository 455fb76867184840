"""The demo looks like a real team's half-year, and is the same every time for a seed and a day."""

from __future__ import annotations

import pytest
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from leadops.demo import build_demo
from leadops.demo.vocab import CHANNELS
from leadops.models import (
    Account,
    Activity,
    Campaign,
    Lead,
    LeadAssignment,
    LeadEvent,
    Opportunity,
    Qualification,
    RoutingCredit,
    Team,
    Touch,
    User,
)
from leadops.runtime import Runtime

pytestmark = pytest.mark.slow


def scalar(session: Session, stmt: object) -> int:
    return session.scalar(stmt) or 0  # type: ignore[call-overload, no-any-return]


def test_the_full_demo_has_the_shape_the_seeds_describe(runtime: Runtime) -> None:
    result = build_demo(runtime)
    assert (result.leads, result.companies) == (5000, 1500)
    with runtime.factory() as session:
        assert scalar(session, select(func.count()).select_from(Lead)) == 5000
        assert scalar(session, select(func.count(distinct(Account.prefecture)))) == 47
        assert {n for (n,) in session.execute(select(Team.name))} == {
            "マーケティング部",
            "本社営業本部インサイドセールス部",
            "本社営業本部法人営業部",
            "大阪支社営業部",
        }
        members = scalar(
            session,
            select(func.count()).select_from(User).where(User.role.in_(["member", "marketing"])),
        )
        assert 10 <= members <= 14
        assert {t for (t,) in session.execute(select(Campaign.type).distinct())} == {
            k for _, k, _ in CHANNELS
        }
        assert {s for (s,) in session.execute(select(Lead.source).distinct())} == {
            label for label, _, _ in CHANNELS
        }
        created = session.execute(
            select(func.min(Lead.created_at), func.max(Lead.created_at))
        ).one()
        assert 170 <= (created[1] - created[0]).days <= 183
        assert scalar(session, select(func.count()).select_from(Activity)) > 30_000
        assert scalar(session, select(func.count()).select_from(Touch)) > 5_000
        assert (
            scalar(
                session,
                select(func.count()).select_from(Opportunity).where(Opportunity.stage == "won"),
            )
            > 50
        )
        kinds = {k for (k,) in session.execute(select(LeadEvent.kind).distinct())}
        assert {
            "created",
            "status",
            "touch_stage",
            "owner",
            "team",
            "lifecycle_stage",
            "level",
        } <= kinds
        reasons = {
            r
            for (r,) in session.execute(
                select(Lead.status_reason).distinct().where(Lead.status == "recycled")
            )
        }
        assert "no_connect" in reasons
        # Its SQLs come from the reps' qualifications, as a user's would: one per SQL event.
        sql_events = session.execute(
            select(LeadEvent.lead_id, LeadEvent.at, LeadEvent.reason).where(
                LeadEvent.kind == "lifecycle_stage", LeadEvent.to_value == "sql"
            )
        ).all()
        qualified = {(q.lead_id, q.at) for q in session.scalars(select(Qualification))}
        assert len(sql_events) > 100
        assert {(lead_id, at) for lead_id, at, _ in sql_events} == qualified
        assert all(reason.startswith("qualified: ") for _, _, reason in sql_events)
        # Level-4 leads in 近畿 went to the Osaka branch, as seed 001 routes them.
        osaka = session.execute(
            select(Lead.region)
            .distinct()
            .join(Team, Team.id == Lead.team_id)
            .where(Team.name == "大阪支社営業部")
        ).all()
        assert {r for (r,) in osaka} <= {"近畿"}
        # Every owner came from a recorded routing decision, and live routing carries on the round
        # robin.
        routed = select(func.count(distinct(LeadAssignment.lead_id)))
        assert scalar(session, routed) == scalar(
            session, select(func.count()).select_from(Lead).where(Lead.owner_id.isnot(None))
        )
        assert scalar(session, select(func.count()).select_from(RoutingCredit)) == members
        assert scalar(session, select(func.max(func.abs(RoutingCredit.credit)))) < 5


def test_the_same_seed_builds_the_same_data(runtime: Runtime) -> None:
    def fingerprint() -> list[tuple[object, ...]]:
        with runtime.factory() as session:
            rows = session.execute(
                select(Lead.email, Lead.status, Lead.touch_stage, User.email)
                .join(User, User.id == Lead.owner_id)
                .order_by(Lead.email)
            ).all()
            return [tuple(r) for r in rows]

    build_demo(runtime, leads=400)
    first = fingerprint()
    build_demo(runtime, leads=400, force=True)
    assert fingerprint() == first
    build_demo(runtime, leads=400, seed=8, force=True)
    assert fingerprint() != first
