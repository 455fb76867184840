"""The fastest correct way to insert many activities on each database, returning what was new.

Both paths insert with ON CONFLICT (source_system, external_id) DO NOTHING and return the ids of
the rows actually inserted, in one statement per batch, so concurrent writers never both believe
they inserted the same event.

- PostgreSQL: COPY into a per-connection staging table, then INSERT … SELECT … RETURNING.
- SQLite: multi-row INSERT … VALUES … RETURNING on the raw connection, with values prepared once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadops.db import json_text, sqlite_time

COLUMNS = (
    "lead_id",
    "type",
    "occurred_at",
    "received_at",
    "campaign_id",
    "channel",
    "properties",
    "source_system",
    "external_id",
)
SQLITE_ROWS_PER_STATEMENT = 2_000
STAGE_TABLE = "leadops_activity_stage"


def insert_activity_rows(
    session: Session, rows: Sequence[dict[str, Any]]
) -> list[tuple[int, str, str]]:
    """Insert ``rows`` (dicts of COLUMNS); return (id, source_system, external_id) of the new
    ones."""
    if not rows:
        return []
    connection = session.connection()
    dialect = connection.dialect.name
    dbapi: Any = connection.connection.dbapi_connection
    assert dbapi is not None
    if dialect == "postgresql":
        return _postgresql(dbapi, rows)
    return _sqlite(dbapi, rows)


def _sqlite(dbapi: Any, rows: Sequence[dict[str, Any]]) -> list[tuple[int, str, str]]:
    received: dict[datetime, str] = {}
    values = []
    for r in rows:
        at = r["received_at"]
        if at not in received:
            received[at] = sqlite_time(at)
        values.append(
            (
                r["lead_id"],
                r["type"],
                sqlite_time(r["occurred_at"]),
                received[at],
                r["campaign_id"],
                r["channel"],
                json_text(r["properties"]),
                r["source_system"],
                r["external_id"],
            )
        )
    cursor = dbapi.cursor()
    out: list[tuple[int, str, str]] = []
    row_marks = "(" + ", ".join("?" * len(COLUMNS)) + ")"
    try:
        for start in range(0, len(values), SQLITE_ROWS_PER_STATEMENT):
            chunk = values[start : start + SQLITE_ROWS_PER_STATEMENT]
            sql = (
                f"INSERT INTO activities ({', '.join(COLUMNS)}) VALUES "
                f"{', '.join([row_marks] * len(chunk))} "
                "ON CONFLICT (source_system, external_id) DO NOTHING RETURNING id, source_system, "
                "external_id"
            )
            cursor.execute(sql, [v for row in chunk for v in row])
            out.extend(cursor.fetchall())
    finally:
        cursor.close()
    return out


def _postgresql(dbapi: Any, rows: Sequence[dict[str, Any]]) -> list[tuple[int, str, str]]:
    cols = ", ".join(COLUMNS)
    with dbapi.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} "
            "(LIKE activities INCLUDING DEFAULTS EXCLUDING IDENTITY) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {STAGE_TABLE}")
        with cursor.copy(f"COPY {STAGE_TABLE} ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(
                    (
                        r["lead_id"],
                        r["type"],
                        r["occurred_at"],
                        r["received_at"],
                        r["campaign_id"],
                        r["channel"],
                        json_text(r["properties"]),
                        r["source_system"],
                        r["external_id"],
                    )
                )
        cursor.execute(
            f"INSERT INTO activities ({cols}) SELECT {cols} FROM {STAGE_TABLE} "
            "ON CONFLICT (source_system, external_id) DO NOTHING RETURNING id, source_system, "
            "external_id"
        )
        return [(int(i), s, e) for i, s, e in cursor.fetchall()]
