"""A small, fixed history for the predictive-scoring tests: leads over 300 days, some booked an
appointment (an opportunity, some won), the rest closed without one or are still open.

Webinar leads and large budgets book more often. A ``trial_signup`` happens only *after* an
appointment: a model that saw it would predict perfectly, so the tests can tell if the features
ever look past a lead's cut-off."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from leadops.models import Activity, Lead, Opportunity
from leadops.models.base import table_of
from tests.conftest import NOW

SOURCES = ("web", "webinar", "tradeshow", "ads")
PLANS = ("basic", "standard", "premium")


@dataclass
class World:
    lead_ids: list[int] = field(default_factory=list)
    booked: dict[int, datetime] = field(default_factory=dict)
    won: set[int] = field(default_factory=set)


def build_world(session: Session, *, leads: int = 420, seed: int = 7) -> World:
    rng = random.Random(seed)
    now = NOW.astimezone(UTC)
    start = now - timedelta(days=300)
    world = World()
    lead_rows: list[dict[str, object]] = []
    for i in range(1, leads + 1):
        created = start + timedelta(hours=17 * i)
        source = SOURCES[i % len(SOURCES)]
        budget = rng.randint(1, 100)
        plan = PLANS[rng.randrange(len(PLANS))]
        lead_rows.append(
            {
                "email": f"p{i}@corp{i % 37}.co.jp",
                "source": source,
                "prefecture": "大阪府" if i % 3 else "東京都",
                "custom": {"budget": budget, "plan": plan},
                "created_at": created,
                "ingested_at": created,
                "updated_at": created,
            }
        )
    session.execute(insert(table_of(Lead)), lead_rows)
    ids = {email: i for email, i in session.execute(select(Lead.email, Lead.id))}
    activity_rows: list[dict[str, object]] = []
    opportunity_rows: list[dict[str, object]] = []
    for row in lead_rows:
        i, created = ids[str(row["email"])], row["created_at"]
        source, budget = row["source"], row["custom"]["budget"]  # type: ignore[index]
        assert isinstance(created, datetime)
        for k in range(rng.randint(0, 4)):
            activity_rows.append(_activity(i, k, "page_view", created + timedelta(hours=k + 1)))
        chance = 0.08 + (0.35 if source == "webinar" else 0) + (0.25 if budget > 70 else 0)
        if created > now - timedelta(days=20) or rng.random() >= chance:
            continue
        booked = created + timedelta(days=rng.randint(3, 30))
        if booked >= now:
            continue
        world.booked[i] = booked
        activity_rows.append(_activity(i, 10, "form_submit", booked - timedelta(hours=2)))
        activity_rows.append(_activity(i, 11, "trial_signup", booked + timedelta(hours=1)))
        won = rng.random() < 0.5
        closed = booked + timedelta(days=20)
        if won and closed < now:
            world.won.add(i)
        opportunity_rows.append(
            {
                "lead_id": i,
                "name": f"deal {i}",
                "stage": ("won" if won else "lost") if closed < now else "proposal_sent",
                "created_at": booked,
                "stage_changed_at": min(closed, now),
                "closed_at": closed if closed < now else None,
            }
        )
    session.execute(insert(table_of(Activity)), activity_rows)
    session.execute(insert(table_of(Opportunity)), opportunity_rows)
    session.flush()
    world.lead_ids = sorted(ids.values())
    return world


def _activity(lead_id: int, k: int, type_: str, at: datetime) -> dict[str, object]:
    return {
        "lead_id": lead_id,
        "type": type_,
        "occurred_at": at,
        "received_at": at,
        "properties": {},
        "source_system": "test",
        "external_id": f"{lead_id}-{k}",
    }
