"""What every benchmark needs: a fresh, migrated database of the chosen kind, and a clock."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from leadops.db import migrate, normalize_url, temporary_postgres_database


@contextmanager
def fresh_database(database_url: str | None) -> Iterator[str]:
    """A new empty database: a temporary SQLite file, or a new database on the given PostgreSQL server."""
    if database_url is None or make_url(normalize_url(database_url)).get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix="leadops-bench-") as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            migrate(url)
            yield url
        return
    with temporary_postgres_database(database_url, "leadops_bench") as url:
        yield url


def backend_of(url: str) -> str:
    return "sqlite" if make_url(normalize_url(url)).get_backend_name() == "sqlite" else "postgresql"
