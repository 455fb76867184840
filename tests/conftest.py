"""Shared fixtures. Database tests run on SQLite always and on PostgreSQL when
``LEADOPS_TEST_DATABASE_URL`` names a server (``make test`` sets it when one answers)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from leadops.auth import create_token
from leadops.clock import FixedClock
from leadops.config import Settings, get_settings
from leadops.db import migrate, temporary_postgres_database
from leadops.models import Base, User
from leadops.runtime import Runtime
from leadops.web.app import create_app

JST = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=JST)
SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data"
PG_URL = os.environ.get("LEADOPS_TEST_DATABASE_URL")
KEEP_TABLES = {"activity_types", "alembic_version"}


def requires_shared_data() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not SHARED_DATA.exists(), reason=f"shared data not found at {SHARED_DATA}"
    )


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of this test session's own, migrated once, dropped at the end."""
    if not PG_URL:
        pytest.skip(
            "PostgreSQL not configured: set LEADOPS_TEST_DATABASE_URL (make test does when a "
            "server answers)"
        )
    with temporary_postgres_database(PG_URL, "leadops_test") as url:
        yield url


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(
        f'"{t.name}"' for t in Base.metadata.sorted_tables if t.name not in KEEP_TABLES
    )
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        target = tmp_path / "leadops.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_database")
    _truncate_pg(url)
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url)


@pytest.fixture
def runtime(settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    rt = Runtime.create(settings, clock)
    yield rt
    rt.close()


def api_token(
    runtime: Runtime, *, role: str = "admin", scope: str = "write", email: str | None = None
) -> str:
    """An API token of a new user with this role (no password: it signs in only with the token)."""
    with runtime.factory() as session, session.begin():
        user = User(
            email=email or f"api-{role}-{scope}@leadops.test",
            name=f"API {role}",
            role=role,
            active=True,
            routing_weight=1.0,
            locale="en",
            created_at=NOW,
        )
        session.add(user)
        session.flush()
        token, _ = create_token(session, user, name="tests", scope=scope, now=NOW)
    return token


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """The app over HTTP, called with an admin's API token (write scope)."""
    headers = {"Authorization": f"Bearer {api_token(runtime)}"}
    with TestClient(create_app(runtime), headers=headers) as test_client:
        yield test_client


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    with runtime.factory() as s:
        yield s
