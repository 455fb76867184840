"""Writing notifications to the outbox, in the same transaction as the change they report.

Every notification has a dedup key naming what it is about, so a unit of work that is retried (or
a sweep run twice at the same moment) queues it once. Delivery reads the outbox later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadops.db import insert_for
from leadops.models import Notification
from leadops.models.base import table_of


@dataclass(frozen=True)
class Note:
    recipient_id: int
    template: str
    dedup_key: str
    payload: dict[str, Any] = field(default_factory=dict)
    channel: str = "in_app"


def enqueue(session: Session, notes: Sequence[Note], now: datetime) -> None:
    """Queue these notifications; one whose dedup key is already queued is skipped."""
    if not notes:
        return
    table = table_of(Notification)
    insert = insert_for(session)
    rows = [
        {
            "recipient_id": n.recipient_id,
            "channel": n.channel,
            "template": n.template,
            "payload": n.payload,
            "created_at": now,
            "next_attempt_at": now,
            "attempts": 0,
            "dedup_key": n.dedup_key[:300],
        }
        for n in notes
    ]
    for start in range(0, len(rows), 1000):
        session.execute(
            insert(table).on_conflict_do_nothing(index_elements=["dedup_key"]),
            rows[start : start + 1000],
        )
