"""Engines and sessions. One transaction per request, command or sweep, committed at the edge."""

from __future__ import annotations

import gc
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from psycopg.types.json import JsonbDumper
from sqlalchemy import (
    JSON,
    Connection,
    CursorResult,
    Engine,
    Select,
    Table,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
T = TypeVar("T")
S = TypeVar("S")


def normalize_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get("sqlite_immediate")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # pysqlite would open a transaction only at the first write, so the reads before it would
        # not see the snapshot the write is made against. SQLAlchemy opens every transaction itself
        # instead: the reads and writes of a unit of work share one snapshot; units of work run by
        # run_in_transaction begin IMMEDIATE (they wait for the write lock first); any other writer
        # whose snapshot went stale fails ("database is locked") rather than act on what it read
        # before.
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "isolation_level": None},
            json_deserializer=json_loads,
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, json_deserializer=json_loads, **kwargs)


#: 19 digits in a row: a number orjson might not keep exactly (it reads integers beyond 64 bits
#: as floats).
_LONG_DIGITS = re.compile(r"\d{19}")
_LONG_DIGITS_BYTES = re.compile(rb"\d{19}")
#: The commonest JSON of all (an activity without properties), read without a parser.
_EMPTY_OBJECT = ("{}", b"{}")


def json_loads(text: str | bytes) -> Any:
    """JSON read with orjson's speed, and as the standard library reads it where orjson would
    differ: NaN and Infinity (which orjson refuses) and integers beyond 64 bits (which it would
    read as floats)."""
    if len(text) < 19:
        if text in _EMPTY_OBJECT:
            return {}
    elif (_LONG_DIGITS_BYTES if isinstance(text, bytes) else _LONG_DIGITS).search(text):  # type: ignore[arg-type]
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def driver_rows(connection: Connection, stmt: Select[Any]) -> CursorResult[Any]:
    """A SELECT run straight on the driver, its rows untouched by SQLAlchemy's types (the hot
    reads: leads for the door, activities for a rescore, facts for predictions); convert them with
    ``driver_time`` and ``driver_json``. Its values are rendered into the statement: only for
    integers from the database and names from the rules, never for what a user sent."""
    sql = str(stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    return connection.exec_driver_sql(sql)


def driver_fetchall(result: CursorResult[Any]) -> list[Any]:
    """Every row of a ``driver_rows`` result as the driver's own tuples, without a Row object
    each (a rescore reads millions)."""
    try:
        cursor = result.cursor
        return list(cursor.fetchall()) if cursor is not None else []
    finally:
        result.close()


#: Stands for the id list while a statement of ``driver_rows_by_ids`` is rendered (no real id is
#: this large).
_IDS_MARK = 9_007_199_254_740_993
_BY_IDS: dict[tuple[str, Any], tuple[str, str]] = {}


def driver_rows_by_ids(
    connection: Connection,
    key: Any,
    build: Callable[[list[int]], Select[Any]],
    ids: Sequence[int],
) -> CursorResult[Any]:
    """``driver_rows`` of ``build(ids)`` for statements run again and again with other ids (the
    door's read of one lead on every API call): built and rendered once per ``key`` and dialect,
    then only the id list is written in. ``key`` names everything else the statement depends
    on."""
    cached = (connection.dialect.name, key)
    parts = _BY_IDS.get(cached)
    if parts is None:
        sql = str(
            build([_IDS_MARK]).compile(
                dialect=connection.dialect, compile_kwargs={"literal_binds": True}
            )
        )
        head, mark, tail = sql.partition(str(_IDS_MARK))
        if not mark or str(_IDS_MARK) in tail:
            raise ValueError(f"{key!r}: the statement must use its ids exactly once")
        parts = _BY_IDS[cached] = (head, tail)
    listed = ", ".join(str(int(i)) for i in ids)
    return connection.exec_driver_sql(f"{parts[0]}{listed}{parts[1]}")


def driver_time(value: Any) -> Any:
    """A time as the driver hands it back, as the models give it: SQLite's text read as UTC (its
    offset written on, which parses several times faster than setting it afterwards)."""
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:  # text that carries its own offset
        return datetime.fromisoformat(value).astimezone(UTC)


def driver_json(value: Any) -> Any:
    """A JSON column as the driver hands it back, as the models give it: SQLite's text read."""
    return json_loads(value) if isinstance(value, str | bytes) else value


#: As the standard library would write them: any dict keys, NumPy's numbers as numbers.
_ORJSON = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class _OrjsonDumper(JsonbDumper):
    """Dicts and lists written as JSONB by orjson (``insert_plain``'s COPY)."""

    def dump(self, obj: Any) -> bytes:
        return orjson.dumps(obj, option=_ORJSON)


@contextmanager
def impatient_transaction(engine: Engine, milliseconds: int) -> Iterator[Connection]:
    """A short transaction of its own that waits at most ``milliseconds`` for a lock another
    writer holds (SQLite's busy timeout, PostgreSQL's lock_timeout), then fails: for bookkeeping
    that would rather be skipped than hold up the request it belongs to."""
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with connection.begin():
                connection.execute(
                    text("SELECT set_config('lock_timeout', :wait, true)"),
                    {"wait": f"{int(milliseconds)}ms"},
                )
                yield connection
            return
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        cursor.execute("PRAGMA busy_timeout")
        (usual,) = cursor.fetchone() or (30_000,)
        cursor.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")
        try:
            with connection.begin():
                yield connection
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {int(usual)}")
            cursor.close()


def session_factory(engine: Engine, *, writer: Engine | None = None) -> sessionmaker[Session]:
    """Sessions on ``engine``. ``writer``: the engine's sessions read a replica, and the little
    that a read keeps for later (a forecast's learned model) is written there instead
    (``writer_of``)."""
    info = {"writer": writer} if writer is not None else {}
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False, info=info)


def writer_of(session: Session) -> Engine | Connection:
    """Where a session's bookkeeping writes go: the primary when the session reads a replica,
    else the session's own database."""
    writer: Engine | None = session.info.get("writer")
    return writer if writer is not None else session.get_bind()


@contextmanager
def session_scope(factory: Callable[[], Session]) -> Iterator[Session]:
    """The edge of a unit of work: commit when the block ends, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


#: Values per IN list: under SQLite's default limit of 999 bound parameters per statement.
IN_LIST_SIZE = 900


def chunked(values: Sequence[S], size: int = IN_LIST_SIZE) -> Iterator[Sequence[S]]:
    """``values`` in slices small enough for one ``IN (…)`` list on every supported database."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def insert_for(session: Session) -> Any:
    """The dialect's INSERT (with ON CONFLICT) for the session's database."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return pg_insert if session.connection().dialect.name == "postgresql" else sqlite_insert


def claim_rows(session: Session, stmt: Any, **lock: Any) -> Any:
    """A SELECT that claims its rows for this transaction: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
    so concurrent workers take different rows; on SQLite the unit of work's write lock does that."""
    if session.connection().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True, **lock)
    return stmt


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema at ``url`` up to ``revision``: the only way the schema is created."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


@contextmanager
def temporary_postgres_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, migrated database on the server of ``server_url``, dropped when the block ends.
    Used by the tests and the benchmarks so that each run has a database of its own."""
    import uuid

    from sqlalchemy import text

    base = make_url(normalize_url(server_url))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
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


_paused = 0
_paused_lock = threading.Lock()
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch builds and writes its rows: a chunk of an import,
    a sweep or a report allocates hundreds of thousands of small objects in no cycle, and each
    collection pass would walk them all again (a quarter of an import's time). Reference counting
    still frees memory as usual. Nested and concurrent pauses (threads of one process) are
    counted: collection resumes when the last one ends."""
    global _paused, _was_enabled
    with _paused_lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()


def run_in_transaction(
    factory: sessionmaker[Session], work: Callable[[Session], T], *, attempts: int = 8
) -> T:
    """Run ``work`` in its own transaction and commit; if a concurrent writer won a race (a unique
    key it created first, SQLite's single-writer lock or a stale snapshot, a PostgreSQL deadlock),
    roll back and run it again. Only for work that is idempotent — every ingestion write is an
    upsert and every sweep re-reads what is due, so a retry sees the winner's rows. Errors from raw
    driver cursors (COPY, bulk inserts) count as well as SQLAlchemy's."""
    import psycopg
    from sqlalchemy.exc import IntegrityError, OperationalError

    uniques = (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)
    transient = (OperationalError, sqlite3.OperationalError, psycopg.OperationalError)
    for attempt in range(1, attempts + 1):
        try:
            with collector_paused(), session_scope(factory) as session:
                if session.get_bind().dialect.name == "sqlite":
                    # A unit of work that writes takes SQLite's write lock first (waiting its turn),
                    # so it never reads a snapshot that another writer makes stale before it writes.
                    session.connection(execution_options={"sqlite_immediate": True})
                return work(session)
        except uniques:
            if attempt == attempts:
                raise
        except transient as exc:
            message = str(exc).lower()
            if attempt == attempts or not any(
                w in message for w in ("locked", "busy", "deadlock", "serializ")
            ):
                raise
        time.sleep(0.01 * attempt * attempt)
    raise AssertionError("unreachable")


# --- bulk writes -----------------------------------------------------------------------------


def assign_ids(session: Session, objects: Sequence[Any]) -> None:
    """Give new ORM objects (of tables with an integer ``id``) their ids before a flush, so that
    the ORM inserts them in one executemany per table instead of reading each row's id back:
    SQLite would insert them one statement each (its RETURNING does not keep the rows' order),
    and psycopg parses each of the many-rows statements anew. The ids come in the order the
    objects were added, as the ORM would have inserted them: on PostgreSQL from the table's
    sequence, on SQLite the table's next ones, read in the unit of work's own snapshot (a writer
    that commits in between makes this one fail rather than collide)."""
    if not objects:
        return
    postgres = session.connection().dialect.name == "postgresql"
    by_table: dict[Any, list[Any]] = {}
    for obj in sorted(objects, key=lambda o: inspect(o).insert_order):
        if obj.id is None:
            by_table.setdefault(obj.__table__, []).append(obj)
    for table, new in by_table.items():
        if postgres:
            stmt = select(func.nextval(func.pg_get_serial_sequence(table.name, "id"))).select_from(
                func.generate_series(1, len(new))
            )
            ids = sorted(session.scalars(stmt))
        else:
            last = session.execute(select(func.max(table.c.id))).scalar() or 0
            ids = list(range(last + 1, last + 1 + len(new)))
        for obj, number in zip(new, ids, strict=True):
            obj.id = number


class Statistics:
    """Keeps PostgreSQL's planner statistics of tables a long write grows (an import of many
    leads) current, as autovacuum would in time: a table without statistics, or grown past twice
    what they say, is analyzed between the write's transactions. Without them the planner takes
    every key of a batch's IN list for one that matches 0.5 % of the rows, and scans the whole
    table for each lookup of a chunk. SQLite's planner needs none."""

    def __init__(self, factory: sessionmaker[Session], tables: Sequence[str]) -> None:
        self.factory, self.tables = factory, list(tables)
        self.grown = 0
        self.known: float | None = None

    def add(self, rows: int) -> None:
        """``rows`` more rows were committed to the tables; analyze them if that is many."""
        self.grown += rows
        if self.known is not None and self.grown < max(self.known, 1000):
            return
        with self.factory() as session:
            if session.get_bind().dialect.name != "postgresql":
                self.known = float("inf")
                return
            known = session.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                {"t": self.tables[0]},
            ).scalar()
            self.known = max(float(known or 0), 0.0)
            if self.grown < max(self.known, 1000):
                return
            for table in self.tables:
                session.execute(text(f"ANALYZE {table}"))
            session.commit()
            self.known += self.grown
            self.grown = 0


def sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DATETIME stores (``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC), so raw
    and ORM writes compare alike as text."""
    if value.tzinfo is UTC:
        text = value.isoformat(" ")[:-6]  # without its "+00:00"
    else:
        text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return text if value.microsecond else text + ".000000"


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def _sqlite_datetime(value: datetime) -> str:
    return sqlite_time(value if value.tzinfo is not None else value.replace(tzinfo=UTC))


# What leadops's raw SQLite writes bind (insert_plain, the door's updates): a datetime as the text
# SQLAlchemy's DATETIME stores (a naive one read as UTC), a dict or list as JSON. SQLAlchemy turns
# its own parameters into text before they reach the driver, so these see only the raw writes.
sqlite3.register_adapter(datetime, _sqlite_datetime)
sqlite3.register_adapter(dict, json_text)
sqlite3.register_adapter(list, json_text)


def update_plain(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Set ``columns`` of rows by id: each row is (id, value of each column). For rows their
    writer holds locked (the door's leads): one executemany on SQLite, one statement over a JSON
    document of every row (``jsonb_to_recordset``) on PostgreSQL. Datetimes must be aware; a JSON
    column's None is JSON null, as SQLAlchemy writes it."""
    if not rows:
        return
    names = list(columns)
    connection = session.connection()
    dbapi: Any = connection.connection.dbapi_connection
    assert dbapi is not None
    key = table.primary_key.columns.keys()[0]
    if connection.dialect.name == "postgresql":
        dialect = connection.dialect
        types = [table.c[c].type.compile(dialect=dialect) for c in names]
        record = ", ".join(
            [f"lid {table.c[key].type.compile(dialect=dialect)}"]
            + [f"{c} {t}" for c, t in zip(names, types, strict=True)]
        )
        document = orjson.dumps(
            [dict(zip(["lid", *names], row, strict=True)) for row in rows], option=_ORJSON
        )
        sets = ", ".join(
            f"{c} = coalesce(v.{c}, 'null'::jsonb)"
            if isinstance(table.c[c].type, JSON)
            else f"{c} = v.{c}"
            for c in names
        )
        with dbapi.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table.name} AS t SET {sets} FROM jsonb_to_recordset(%s::jsonb) "
                f"AS v({record}) WHERE t.{key} = v.lid",
                (document.decode("utf-8"),),
            )
        return
    jsons = {i for i, c in enumerate(names, start=1) if isinstance(table.c[c].type, JSON)}
    if jsons:
        rows = [
            tuple("null" if v is None and i in jsons else v for i, v in enumerate(row))
            for row in rows
        ]
    sets = ", ".join(f"{c} = ?" for c in names)
    cursor = dbapi.cursor()
    try:
        cursor.executemany(
            f"UPDATE {table.name} SET {sets} WHERE {key} = ?", [(*row[1:], row[0]) for row in rows]
        )
    finally:
        cursor.close()


def insert_plain(
    session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Append rows that cannot conflict (their writer holds the lead's lock): COPY on PostgreSQL,
    one executemany on SQLite. Datetimes must be aware; dicts and lists are written as JSON."""
    if not rows:
        return
    connection = session.connection()
    dbapi: Any = connection.connection.dbapi_connection
    assert dbapi is not None
    if connection.dialect.name == "postgresql":
        with dbapi.cursor() as cursor:
            cursor.adapters.register_dumper(dict, _OrjsonDumper)
            cursor.adapters.register_dumper(list, _OrjsonDumper)
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    # The rows go to the driver as they are: the adapters below turn datetimes and dicts into
    # SQLite's text as it binds them, without a pass over every value here.
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    cursor = dbapi.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()
