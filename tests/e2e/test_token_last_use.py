"""An API token's ``last_used_at`` is bookkeeping: written at most once a minute, in a transaction
of its own after the request's authentication, and a write that cannot be made never fails the
request."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from leadops import auth
from leadops.clock import FixedClock
from leadops.models import ApiToken
from leadops.runtime import Runtime


def last_used(session: Session) -> list[object]:
    """What is committed now (each read in a transaction of its own: on SQLite a transaction keeps
    the snapshot of its first read)."""
    with session.begin():
        return list(session.scalars(select(ApiToken.last_used_at)))


def test_a_request_succeeds_when_the_tokens_last_use_cannot_be_written(
    client: TestClient,
    session: Session,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def locked(connection: Connection, token_id: int, now: object) -> None:
        raise OperationalError("UPDATE api_tokens …", {}, sqlite3.OperationalError("locked"))

    with monkeypatch.context() as patch:
        patch.setattr(auth, "_record_token_use", locked)
        with caplog.at_level(logging.DEBUG, logger="leadops.auth"):
            assert client.get("/api/v1/leads").status_code == 200
    assert last_used(session) == [None]
    assert "last use of API token" in caplog.text
    # The next use records it, then at most once a minute.
    assert client.get("/api/v1/leads").status_code == 200
    first = clock.now()
    assert last_used(session) == [first]
    clock.advance(timedelta(seconds=30))
    assert client.get("/api/v1/leads").status_code == 200
    assert last_used(session) == [first]
    clock.advance(timedelta(seconds=31))
    assert client.get("/api/v1/leads").status_code == 200
    assert last_used(session) == [clock.now()]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_request_succeeds_while_another_writer_holds_sqlites_lock(
    db_url: str, runtime: Runtime, client: TestClient, session: Session
) -> None:
    holder = sqlite3.connect(str(make_url(db_url).database), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        answer = client.get("/api/v1/leads")
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert answer.status_code == 200, answer.text
    assert answer.elapsed < timedelta(seconds=10)  # not held up for the usual 30 s busy timeout
    assert last_used(session) == [None]
    assert client.get("/api/v1/leads").status_code == 200
    assert last_used(session) == [runtime.clock.now()]
