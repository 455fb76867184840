"""What every benchmark needs: a fresh, migrated database of the chosen kind, and a clock."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.db import migrate, normalize_url, temporary_postgres_database
from leadops.models.base import table_of
from leadops.runtime import Runtime


@contextmanager
def fresh_database(database_url: str | None) -> Iterator[str]:
    """A new empty database: a temporary SQLite file, or a new database on the given PostgreSQL
    server."""
    if database_url is None or make_url(normalize_url(database_url)).get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix="leadops-bench-") as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            migrate(url)
            yield url
        return
    with temporary_postgres_database(database_url, "leadops_bench") as url:
        yield url


def on_fresh_database(
    database_url: str | None,
    now: datetime,
    load: Callable[[Runtime], None],
    measure: Callable[[Runtime, str], dict[str, Any]],
) -> dict[str, Any]:
    """Set up (untimed) and measure on a fresh database, with leadops' clock fixed at ``now``."""
    with fresh_database(database_url) as url:
        rt = Runtime.create(Settings(database_url=url), FixedClock(now))
        try:
            load(rt)
            return measure(rt, url)
        finally:
            rt.close()


def backend_of(url: str) -> str:
    return "sqlite" if make_url(normalize_url(url)).get_backend_name() == "sqlite" else "postgresql"


TEAMS = {
    "マーケティング部": ("marketing", 4),
    "本社営業本部インサイドセールス部": ("inside_sales", 10),
    "本社営業本部法人営業部": ("sales", 6),
    "大阪支社営業部": ("sales", 4),
}


def bench_org() -> str:
    """Seed 001's four departments with 24 reps (mixed weights, one out of office), as org YAML."""
    lines = ["teams:"]
    for index, (name, (kind, _)) in enumerate(TEAMS.items()):
        lines.append(f"  - {{name: {name}, kind: {kind}, manager: boss{index}@bench.jp}}")
    lines.append("users:")
    for index, (name, (kind, size)) in enumerate(TEAMS.items()):
        lines.append(
            f"  - {{email: boss{index}@bench.jp, name: Boss {index}, role: manager, team: {name}}}"
        )
        role = "marketing" if kind == "marketing" else "member"
        for rep in range(size):
            extra = ", weight: 2" if rep % 3 == 0 else ""
            extra += (
                ", out_of_office: [{from: 2026-11-20, to: 2026-11-27}]"
                if (index, rep) == (1, 0)
                else ""
            )
            lines.append(
                f"  - {{email: r{index}-{rep}@bench.jp, name: Rep {index}-{rep}, role: {role}, "
                f"team: {name}{extra}}}"
            )
    return "\n".join(lines)


def insert_in_chunks(
    session: Session, model: Any, rows: list[dict[str, Any]], size: int = 20_000
) -> None:
    for start in range(0, len(rows), size):
        session.execute(insert(table_of(model)), rows[start : start + size])


def analyze(rt: Runtime) -> None:
    """Fresh planner statistics after a bulk load (PostgreSQL), as autovacuum would give a
    running system."""
    if backend_of(str(rt.engine.url)) == "postgresql":
        with rt.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
