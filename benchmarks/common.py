"""What every benchmark needs: a fresh, migrated database of the chosen kind, and a clock."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from leadops.db import migrate, normalize_url


@contextmanager
def fresh_database(database_url: str | None) -> Iterator[str]:
    """A new empty database: a temporary SQLite file, or a new database on the given PostgreSQL server."""
    if database_url is None or make_url(normalize_url(database_url)).get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix="leadops-bench-") as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            migrate(url)
            yield url
        return
    base = make_url(normalize_url(database_url))
    name = f"leadops_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def backend_of(url: str) -> str:
    return "sqlite" if make_url(normalize_url(url)).get_backend_name() == "sqlite" else "postgresql"
