"""What every ingestion call needs to know besides its input: when, who, and how to read dates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from leadops.config import Settings
from leadops.ingest.normalize import check_not_future, parse_datetime


@dataclass
class IngestContext:
    session: Session
    now: datetime
    tz: tzinfo
    actor_kind: str = "api"
    actor_ref: str | None = None
    date_order: str = "ymd"
    future_tolerance: timedelta = timedelta(hours=24)
    region_map: Mapping[str, str] | None = None
    #: Caches that live as long as the context (one request or one import).
    cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls,
        session: Session,
        settings: Settings,
        now: datetime,
        *,
        actor_kind: str = "api",
        actor_ref: str | None = None,
        date_order: str | None = None,
    ) -> IngestContext:
        return cls(
            session=session,
            now=now,
            tz=settings.tz,
            actor_kind=actor_kind,
            actor_ref=actor_ref,
            date_order=date_order or settings.date_order,
            future_tolerance=timedelta(hours=settings.future_tolerance_hours),
        )

    def parse_time(self, value: object, *, allow_future: bool = False) -> datetime:
        at = parse_datetime(value, tz=self.tz, date_order=self.date_order)
        if not allow_future:
            check_not_future(at, self.now, self.future_tolerance)
        return at
