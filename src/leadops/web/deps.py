"""Request-scoped dependencies: the runtime, one session per request (committed at the edge) and
the runner of background work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from leadops.db import session_scope
from leadops.ingest.grouped import GroupCommit
from leadops.runtime import Runtime
from leadops.web.background import Runner


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_runner(request: Request) -> Runner:
    runner: Runner = request.app.state.runner
    return runner


def get_activity_writer(request: Request) -> GroupCommit:
    writer: GroupCommit = request.app.state.activity_writer
    return writer


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(get_runtime(request).factory) as session:
        yield session


def get_read_session(request: Request) -> Iterator[Session]:
    """A session for a report: on the replica when one is configured (``read_database_url``)."""
    with session_scope(get_runtime(request).read_factory) as session:
        yield session


def get_write_session(request: Request) -> Iterator[Session]:
    """A session for a request that changes something: on SQLite it takes the write lock first
    (BEGIN IMMEDIATE, waiting its turn), so what it reads is what it writes against; on PostgreSQL
    the rows it changes are locked by the services (the door locks the lead)."""
    runtime = get_runtime(request)
    factory: Callable[[], Session] = runtime.factory
    if runtime.engine.dialect.name == "sqlite":
        # The transaction begins at the handler's first statement, after authentication has read
        # (and noted) the caller's token in its own short transaction.
        factory = partial(
            runtime.factory, bind=runtime.engine.execution_options(sqlite_immediate=True)
        )
    with session_scope(factory) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(get_write_session, scope="function")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
RunnerDep = Annotated[Runner, Depends(get_runner)]
ActivityWriterDep = Annotated[GroupCommit, Depends(get_activity_writer)]
