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
    #: The replica reports read from (``read_database_url``), when there is one.
    read_engine: Engine | None = None
    reader: sessionmaker[Session] | None = None

    @classmethod
    def create(cls, settings: Settings | None = None, clock: Clock | None = None) -> Runtime:
        settings = settings or get_settings()
        engine = make_engine(settings.database_url)
        runtime = cls(settings, engine, session_factory(engine), clock or SystemClock())
        if settings.read_database_url:
            runtime.read_engine = make_engine(settings.read_database_url)
            runtime.reader = session_factory(runtime.read_engine, writer=engine)
        return runtime

    @property
    def read_factory(self) -> sessionmaker[Session]:
        """Sessions for reports: on the replica when one is configured, else on the store. A
        replica lags the primary by what it has not replayed yet; everything that changes data,
        and every page that must show a change just made, uses ``factory``."""
        return self.reader if self.reader is not None else self.factory

    def migrate(self) -> None:
        migrate(self.settings.database_url)

    def close(self) -> None:
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()
