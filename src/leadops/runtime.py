"""What a process needs to do work: settings, an engine, a session factory and a clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from leadops.clock import Clock, SystemClock
from leadops.config import Settings, get_settings
from leadops.db import make_engine, migrate, session_factory


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def create(cls, settings: Settings | None = None, clock: Clock | None = None) -> Runtime:
        settings = settings or get_settings()
        engine = make_engine(settings.database_url)
        return cls(settings, engine, session_factory(engine), clock or SystemClock())

    def migrate(self) -> None:
        migrate(self.settings.database_url)

    def close(self) -> None:
        self.engine.dispose()
