"""What every ingestion call needs to know besides its input: when, who, and how to read dates."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from leadops.config import Settings
from leadops.errors import FieldError
from leadops.normalize import check_not_future, parse_datetime
from leadops.rules.loader import CompiledRules
from leadops.rules.service import active_rules

T = TypeVar("T")


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
    #: Route leads that need an owner once they are scored (off for the demo, whose history is
    #: simulated).
    routing: bool = True
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

    def rules(self) -> CompiledRules:
        """The active rules (statuses, scoring …), looked up once per context."""
        if "rules" not in self.cache:
            self.cache["rules"] = active_rules(self.session, self.now)
        rules: CompiledRules = self.cache["rules"]
        return rules

    def parse_time(self, value: object, *, allow_future: bool = False) -> datetime:
        at = parse_datetime(value, tz=self.tz, date_order=self.date_order)
        if not allow_future:
            check_not_future(at, self.now, self.future_tolerance)
        return at


class FieldReader:
    """Reads the optional fields of one input: a blank field is None, and a field that does not
    parse is None with a FieldError (its path and why) kept in ``errors``."""

    def __init__(self, fields: Mapping[str, Any], prefix: str = "") -> None:
        self.fields = fields
        self.prefix = prefix
        self.errors: list[FieldError] = []

    def error(self, name: str, message: str) -> None:
        self.errors.append(FieldError(f"{self.prefix}{name}", message))

    def failed(self, name: str) -> bool:
        return any(e.path == f"{self.prefix}{name}" for e in self.errors)

    def read(self, name: str, parse: Callable[[Any], T]) -> T | None:
        value = self.fields.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parse(value)
        except ValueError as exc:
            self.error(name, str(exc))
            return None
