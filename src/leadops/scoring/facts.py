"""Loading what scoring looks at besides the lead: its activities, in time order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.db import chunked
from leadops.models import Activity
from leadops.scoring.engine import ScoredActivity


def load_activities(
    session: Session, lead_ids: Sequence[int], types: Iterable[str] | None = None
) -> dict[int, list[ScoredActivity]]:
    """Activities of these leads (optionally only of some types), in time order."""
    out: dict[int, list[ScoredActivity]] = defaultdict(list)
    wanted = sorted(types) if types is not None else None
    if wanted == []:
        return out
    for part in chunked(sorted(lead_ids), 500):
        stmt = select(
            Activity.lead_id, Activity.id, Activity.type, Activity.occurred_at, Activity.properties
        ).where(Activity.lead_id.in_(part))
        if wanted is not None:
            stmt = stmt.where(Activity.type.in_(wanted))
        for lead_id, activity_id, type_, at, props in session.execute(
            stmt.order_by(Activity.occurred_at, Activity.id)
        ):
            out[lead_id].append(ScoredActivity(activity_id, type_, at, props or {}))
    return out
