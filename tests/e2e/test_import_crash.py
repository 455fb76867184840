"""An import killed with SIGKILL — a `leadops import` on the command line, or the server running a
file sent from the import page — is resumed from its last committed chunk, and every row is in
once: nothing lost, nothing twice."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from leadops.auth import start_session
from leadops.db import normalize_url
from leadops.models import ImportJob, Lead, LeadEvent
from leadops.runtime import Runtime
from leadops.web.security import SESSION_COOKIE
from leadops.worker import run_pending_imports
from tests.factories import make_user

ROWS = 4000
CHUNK = 100
#: Bounds for waiting on another process: generous, they never decide a result.
BOUND_SECONDS = 120
LEADOPS = str(Path(sys.executable).parent / "leadops")


def _file(path: Path) -> Path:
    lines = ["email,last_name,company"]
    lines += [f"crash{n}@firm{n % 50}.co.jp,人{n},株式会社{n % 50}" for n in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _env(db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "LEADOPS_DATABASE_URL": db_url,
        "LEADOPS_IMPORT_CHUNK_SIZE": str(CHUNK),
    }


def _job(db_url: str) -> ImportJob | None:
    engine = create_engine(normalize_url(db_url))
    try:
        with Session(engine) as session:
            return session.scalar(select(ImportJob).order_by(ImportJob.id.desc()))
    finally:
        engine.dispose()


def _kill_once_chunks_are_in(proc: subprocess.Popen[bytes], db_url: str) -> int:
    """SIGKILL the process as soon as two chunks are committed; the job's id."""
    deadline = time.monotonic() + BOUND_SECONDS
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the importing process ended before it could be killed"
        job = _job(db_url)
        if job is not None and job.rows_done >= 2 * CHUNK:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=BOUND_SECONDS)
            assert job.state == "running", "the import finished before it could be killed"
            return job.id
        time.sleep(0.02)  # polling a condition, with a bound that does not decide the result
    raise AssertionError(f"no chunk committed within {BOUND_SECONDS} s")


def _assert_every_row_once(runtime: Runtime, job_id: int) -> None:
    with runtime.factory() as session:
        job = session.get_one(ImportJob, job_id)
        assert (job.state, job.rows_total, job.rows_taken, job.rows_rejected) == (
            "done",
            ROWS,
            ROWS,
            0,
        )
        assert job.resumes == 1
        assert session.scalar(select(func.count()).select_from(Lead)) == ROWS
        created = select(func.count()).select_from(LeadEvent).where(LeadEvent.kind == "created")
        assert session.scalar(created) == ROWS


def test_a_cli_import_killed_mid_file_is_resumed_with_every_row_once(
    runtime: Runtime, db_url: str, tmp_path: Path
) -> None:
    path = _file(tmp_path / "leads.csv")
    env = _env(db_url)
    command = [LEADOPS, "import", "leads", str(path), "--mapping", "default"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    job_id = _kill_once_chunks_are_in(proc, db_url)
    wide = {**env, "COLUMNS": "200"}
    jobs = subprocess.run([LEADOPS, "import", "jobs"], env=wide, capture_output=True, text=True)
    assert "interrupted" in jobs.stdout, jobs.stdout
    resumed = subprocess.run(
        [LEADOPS, "import", "resume", str(job_id)], env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"Import job {job_id}: {ROWS} rows read" in resumed.stdout
    _assert_every_row_once(runtime, job_id)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + BOUND_SECONDS
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a condition, with a bound that does not decide the result
    raise AssertionError(f"the server did not answer within {BOUND_SECONDS} s")


def test_a_server_killed_while_importing_a_file_is_resumed_by_the_worker(
    runtime: Runtime, db_url: str, session: Session, tmp_path: Path
) -> None:
    user = make_user(session, email="mkt@firm.test", role="marketing")
    secret, row = start_session(session, user, now=datetime.now(UTC), hours=1)
    csrf = row.csrf_token
    session.commit()
    path = _file(tmp_path / "leads.csv")
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "leadops.web.app:create_app"]
    command += ["--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=_env(db_url), stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server)
        answer = httpx.post(
            f"{url}/import",
            data={"kind": "leads", "mapping": "default"},
            files={"file": ("営業リスト.csv", path.read_bytes(), "text/csv")},
            cookies={SESSION_COOKIE: secret},
            headers={"X-CSRF-Token": csrf},
            timeout=BOUND_SECONDS,
        )
        assert answer.status_code == 303, answer.text
        job_id = _kill_once_chunks_are_in(server, db_url)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=BOUND_SECONDS)
    # The server's process is gone: the worker (here, of this process) takes the job up.
    assert run_pending_imports(runtime) == 1
    _assert_every_row_once(runtime, job_id)
    with runtime.factory() as check:
        assert check.get_one(ImportJob, job_id).filename == "営業リスト.csv"


@pytest.fixture(autouse=True)
def _no_leftover_jobs(runtime: Runtime) -> None:
    """Each test starts with no job (the fixture's database is new)."""
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(ImportJob)) == 0
