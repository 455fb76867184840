"""Request-scoped dependencies: the runtime, one session per request (committed at the edge) and
the runner of background work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from leadops.db import session_scope
from leadops.runtime import Runtime
from leadops.web.background import Runner


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_runner(request: Request) -> Runner:
    runner: Runner = request.app.state.runner
    return runner


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(get_runtime(request).factory) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
RunnerDep = Annotated[Runner, Depends(get_runner)]
