"""The REST API under a fixed load: a real ``leadops serve`` (with its in-process worker) on a
fresh database, and single-event ``POST /api/v1/activities`` at ``rate`` requests/s for ``seconds``
from a separate process (``api_driver.py``: open loop, latency counted from each request's due
moment), after a 3 s warm-up that is not counted.

Setup (untimed): seed 001's four departments (so new leads are routed), the default rules, an API
token. The events go to 2,000 leads: the first of each creates its lead (scored, routed, an
approach request), the rest score it.
Reported: the achieved rate, p50/p95/p99/max latency (and the p99 of each 10 s window of the run,
to show where the slow answers were), errors (a request not answered within 60 s
of the last one's due moment counts as one), and how many events were stored, each once (a
request the driver gave up on may still have been stored). Then, in the same database, its raw
speed for the same work: one single-row INSERT of an activity per transaction, as many as were
posted (commits/s).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text

from common import backend_of, bench_org, fresh_database
from leadops.auth import create_token
from leadops.config import Settings
from leadops.models import Activity, User
from leadops.routing.org import apply_org, parse_org
from leadops.rules.service import active_rules
from leadops.runtime import Runtime

#: How long the server may take to answer /healthz: generous, it never decides a figure.
START_BOUND_SECONDS = 120
WARM_UP_SECONDS = 3.0
DRIVER = Path(__file__).resolve().with_name("api_driver.py")


def run(
    *,
    database_url: str | None,
    events: int,
    rate: float = 200.0,
    seconds: float = 60.0,
) -> dict[str, Any]:
    with fresh_database(database_url) as url:
        token = _setup(url)
        with tempfile.TemporaryDirectory(prefix="leadops-bench-api-") as folder:
            port = _free_port()
            server = _serve(url, port, Path(folder) / "server.log")
            base = f"http://127.0.0.1:{port}"
            try:
                _wait_until_up(base, server, Path(folder) / "server.log")
                _drive(base, token, rate, WARM_UP_SECONDS, "warm-up")
                load = _drive(base, token, rate, seconds, "bench-api")
            finally:
                server.terminate()
                try:
                    server.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    server.kill()
        stored = _stored(url)
        plain = _plain_commits(url, load["requests"])
    backend = backend_of(url)
    result: dict[str, Any] = {"backend": backend, **load, "stored_once": stored, **plain}
    result["ratio_to_plain_commits"] = (
        round(load["achieved_rate"] / plain["plain_commits_per_second"], 3)
        if plain["plain_commits_per_second"]
        else None
    )
    result["summary"] = (
        f"API on {backend}, single-event posts at {rate:g}/s for {seconds:g} s: achieved "
        f"{load['achieved_rate']:,.1f}/s, p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, "
        f"p99 {load['p99_ms']} ms (by {load['window_seconds']:g} s window: "
        f"{' / '.join(str(p) for p in load['p99_ms_by_window'])} ms), max {load['max_ms']} ms, "
        f"{load['errors']} errors; "
        f"{stored:,} events stored, each once ({load['answered']:,} answered in time); the "
        "database alone "
        f"commits {plain['plain_commits_per_second']:,.0f} single-row transactions/s"
    )
    return result


def _setup(url: str) -> str:
    now = datetime.now(UTC)
    rt = Runtime.create(Settings(database_url=url))
    try:
        with rt.factory() as session, session.begin():
            active_rules(session, now)
            apply_org(session, parse_org(bench_org()), now=now, tz=rt.settings.tz)
            user = User(
                email="api@bench.jp",
                name="API",
                role="admin",
                active=True,
                routing_weight=0.0,
                locale="en",
                created_at=now,
            )
            session.add(user)
            session.flush()
            secret, _ = create_token(session, user, name="bench api", scope="write", now=now)
            return secret
    finally:
        rt.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    found = Path(sys.executable).with_name("leadops")
    command = [str(found) if found.exists() else shutil.which("leadops") or "leadops"]
    command += ["serve", "--port", str(port)]
    env = {**os.environ, "LEADOPS_DATABASE_URL": url}
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_BOUND_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"leadops serve exited with {server.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a condition, with a bound that decides no figure
    raise RuntimeError(f"leadops serve did not answer within {START_BOUND_SECONDS} s")


def _drive(base: str, token: str, rate: float, seconds: float, run: str) -> dict[str, Any]:
    command = [sys.executable, str(DRIVER), base, token, "--rate", str(rate)]
    command += ["--seconds", str(seconds), "--run", run]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the load driver failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _stored(url: str) -> int:
    """The measured run's events in the database, each once (their external ids are unique)."""
    rt = Runtime.create(Settings(database_url=url))
    try:
        with rt.factory() as session:
            ours = Activity.external_id.like("bench-api-%")
            stored = session.scalar(select(func.count()).where(ours)) or 0
            distinct = session.scalar(
                select(func.count(func.distinct(Activity.external_id))).where(ours)
            )
            if distinct != stored:
                raise RuntimeError(f"{stored - (distinct or 0)} events stored twice")
            return int(stored)
    finally:
        rt.close()


def _plain_commits(url: str, count: int) -> dict[str, Any]:
    """The same number of single-row activity INSERTs, each in its own transaction."""
    rt = Runtime.create(Settings(database_url=url))
    try:
        with rt.engine.connect() as connection:
            lead_id = connection.execute(text("SELECT min(id) FROM leads")).scalar_one()
            connection.commit()
            insert = text(
                "INSERT INTO activities (lead_id, type, occurred_at, received_at, properties,"
                " source_system, external_id) VALUES (:lead, 'page_view', :at, :at, '{}',"
                " 'plain', :ext)"
            )
            at = datetime.now(UTC)
            started = time.perf_counter()
            for n in range(count):
                connection.execute(insert, {"lead": lead_id, "at": at, "ext": f"plain-{n}"})
                connection.commit()
            elapsed = time.perf_counter() - started
    finally:
        rt.close()
    return {
        "plain_commits": count,
        "plain_seconds": round(elapsed, 2),
        "plain_commits_per_second": round(count / elapsed, 1) if elapsed else None,
    }
