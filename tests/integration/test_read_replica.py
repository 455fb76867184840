"""Reports read from a real PostgreSQL streaming replica (``LEADOPS_READ_DATABASE_URL``) while
every write goes to the primary.

The test makes its own pair of clusters on spare ports (``initdb``, then ``pg_basebackup -R`` of
the primary), and removes them at the end. Replay on the replica is paused to tell the two apart:
a lead written on the primary after the pause is in the primary's reports and not yet in the
replica's; once replay resumes, the replica has it too.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner

from leadops.cli import app
from leadops.config import Settings
from leadops.db import migrate, run_in_transaction
from leadops.ingest.service import upsert_lead
from leadops.models import ForecastModel
from leadops.reports import run_report
from leadops.reports.base import report_params
from leadops.runtime import Runtime
from leadops.web.app import create_app
from tests.conftest import api_token

BOUND_SECONDS = 120  # how long the replica may take to catch up: generous, never decides


def _bin(name: str) -> Path | None:
    found = shutil.which(name)
    if found:
        return Path(found)
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return folder / name
    return None


def _spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL's server tools refuse to run as root: run them as its own user."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _run(args: list[str]) -> None:
    done = subprocess.run(_as_postgres(args), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stdout}{done.stderr}"


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[str, str]]:
    initdb, pg_ctl, basebackup = _bin("initdb"), _bin("pg_ctl"), _bin("pg_basebackup")
    if initdb is None or pg_ctl is None or basebackup is None:
        pytest.skip("PostgreSQL's server tools (initdb, pg_ctl, pg_basebackup) are not installed")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start a PostgreSQL server")
    folder = Path(tempfile.mkdtemp(prefix="leadops-replica-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    primary, replica = folder / "primary", folder / "replica"
    ports = _spare_port(), _spare_port()
    started: list[Path] = []
    try:
        _run([str(initdb), "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {ports[0]}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{folder}'\nwal_level = replica\n"
                "max_wal_senders = 4\nfsync = off\n"
            )
        _run([str(pg_ctl), "-D", str(primary), "-l", str(folder / "primary.log"), "-w", "start"])
        started.append(primary)
        _run(
            [str(basebackup), "-h", "127.0.0.1", "-p", str(ports[0]), "-U", "postgres"]
            + ["-D", str(replica), "-R", "-X", "stream"]
        )
        with (replica / "postgresql.conf").open("a") as conf:
            conf.write(f"\nport = {ports[1]}\nhot_standby = on\n")
        _run([str(pg_ctl), "-D", str(replica), "-l", str(folder / "replica.log"), "-w", "start"])
        started.append(replica)
        yield tuple(  # type: ignore[misc]
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres" for port in ports
        )
    finally:
        for data in reversed(started):
            subprocess.run(
                _as_postgres([str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(folder, ignore_errors=True)


def _caught_up(primary: str, replica: str) -> None:
    """Wait (bounded) until the replica has replayed everything the primary has written."""
    with create_engine(primary).connect() as connection:
        lsn = connection.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
    engine = create_engine(replica)
    try:
        deadline = time.monotonic() + BOUND_SECONDS
        while True:
            with engine.connect() as connection:
                done = connection.execute(
                    text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": lsn}
                ).scalar_one()
            if done:
                return
            assert time.monotonic() < deadline, f"the replica did not reach {lsn}"
            time.sleep(0.05)
    finally:
        engine.dispose()


def _replay(replica: str, paused: bool) -> None:
    with create_engine(replica).connect() as connection:
        call = "pg_wal_replay_pause" if paused else "pg_wal_replay_resume"
        connection.execute(text(f"SELECT {call}()"))


def _today(rt: Runtime, session: Any) -> int:
    params = report_params(None, None, "month", "period", rt.settings.tz, rt.clock.now())
    result = run_report(session, "new-leads", params)
    return sum(int(row[3]) for row in result.rows if row[0] == "today")


def _today_of(rows: list[dict[str, Any]]) -> int:
    """Today's leads in a report's JSON rows."""
    return sum(int(row["leads"]) for row in rows if row["window"] == "today")


def _add_lead(rt: Runtime, email: str) -> None:
    now = datetime.now(UTC)
    run_in_transaction(
        rt.factory,
        lambda s: upsert_lead(s, rt.settings, now, {"email": email, "company": "レプリカ商事"}),
    )


def test_reports_read_the_replica_and_writes_go_to_the_primary(
    clusters: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    primary, replica = clusters
    migrate(primary)
    rt = Runtime.create(Settings(database_url=primary, read_database_url=replica))
    try:
        _add_lead(rt, "first@replica.co.jp")
        _caught_up(primary, replica)
        with rt.read_factory() as session:
            assert _today(rt, session) == 1
            where = session.execute(text("SELECT pg_is_in_recovery()")).scalar_one()
            assert where is True  # the report's session is on the replica

        _replay(replica, paused=True)
        _add_lead(rt, "second@replica.co.jp")  # written to the primary while replay waits
        with rt.factory() as session:
            assert _today(rt, session) == 2
        with rt.read_factory() as session:
            assert _today(rt, session) == 1

        # The API and the CLI read their reports there too.
        headers = {"Authorization": f"Bearer {api_token(rt)}"}
        with TestClient(create_app(rt), headers=headers) as client:
            answer = client.get("/api/v1/reports/new-leads")
            assert answer.status_code == 200, answer.text
            assert _today_of(answer.json()["rows"]) == 1
        monkeypatch.setenv("LEADOPS_DATABASE_URL", primary)
        monkeypatch.setenv("LEADOPS_READ_DATABASE_URL", replica)
        shown = CliRunner().invoke(app, ["report", "new-leads", "--format", "json"])
        assert shown.exit_code == 0, shown.output
        assert _today_of(json.loads(shown.output)["rows"]) == 1

        # A forecast on the replica keeps the model it learned: on the primary (the replica is
        # read-only), so the report still answers.
        with rt.read_factory() as session:
            params = report_params(None, None, "month", "period", rt.settings.tz, rt.clock.now())
            assert run_report(session, "forecast", params).rows
        with rt.factory() as session:
            assert session.scalar(select(func.count()).select_from(ForecastModel)) == 1

        _replay(replica, paused=False)
        _caught_up(primary, replica)
        with rt.read_factory() as session:
            assert _today(rt, session) == 2
    finally:
        rt.close()


def test_without_a_replica_reports_read_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'leadops.db'}"
    rt = Runtime.create(Settings(database_url=url))
    try:
        assert rt.read_factory is rt.factory
        assert rt.read_engine is None
    finally:
        rt.close()
