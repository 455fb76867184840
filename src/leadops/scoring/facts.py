"""Loading what scoring looks at besides the lead: its activities, in time order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.db import chunked, driver_fetchall, driver_json, driver_rows, driver_time
from leadops.models import Activity
from leadops.scoring.engine import ScoredActivity


def load_activities(
    session: Session, lead_ids: Sequence[int], types: Iterable[str] | None = None
) -> dict[int, list[ScoredActivity]]:
    """Activities of these leads (optionally only of some types), in time order.

    A rescore reads every activity of every lead: the rows come straight from the driver
    (``driver_rows``; the ids are integers from the database, the types names of the rules)."""
    out: dict[int, list[ScoredActivity]] = defaultdict(list)
    wanted = sorted(types) if types is not None else None
    if wanted == []:
        return out
    connection = session.connection()
    for part in chunked(sorted(lead_ids), 500):
        stmt = select(
            Activity.lead_id, Activity.id, Activity.type, Activity.occurred_at, Activity.properties
        ).where(Activity.lead_id.in_(part))
        if wanted is not None:
            stmt = stmt.where(Activity.type.in_(wanted))
        rows = driver_rows(connection, stmt.order_by(Activity.occurred_at, Activity.id))
        for lead_id, activity_id, type_, at, props in driver_fetchall(rows):
            out[lead_id].append(
                ScoredActivity(activity_id, type_, driver_time(at), driver_json(props) or {})
            )
    return out
