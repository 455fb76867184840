"""Loading what scoring looks at besides the lead: its activities, in time order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.db import chunked
from leadops.models import Activity
from leadops.scoring.engine import ScoredActivity


def load_activities(
    session: Session, lead_ids: Sequence[int], types: Iterable[str] | None = None
) -> dict[int, list[ScoredActivity]]:
    """Activities of these leads (optionally only of some types), in time order.

    A rescore reads every activity of every lead, so the rows come back from the driver untouched
    and are converted here once (aware UTC datetimes, dicts), as ``load_leads`` does: the ids are
    integers from the database and the types names of the rules, rendered into the statement."""
    out: dict[int, list[ScoredActivity]] = defaultdict(list)
    wanted = sorted(types) if types is not None else None
    if wanted == []:
        return out
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    for part in chunked(sorted(lead_ids), 500):
        stmt = select(
            Activity.lead_id, Activity.id, Activity.type, Activity.occurred_at, Activity.properties
        ).where(Activity.lead_id.in_(part))
        if wanted is not None:
            stmt = stmt.where(Activity.type.in_(wanted))
        stmt = stmt.order_by(Activity.occurred_at, Activity.id)
        sql = str(stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        for lead_id, activity_id, type_, at, props in connection.exec_driver_sql(sql):
            if sqlite and isinstance(at, str):
                at = datetime.fromisoformat(at).replace(tzinfo=UTC)
            if isinstance(props, str | bytes):
                props = orjson.loads(props)
            out[lead_id].append(ScoredActivity(activity_id, type_, at, props or {}))
    return out
