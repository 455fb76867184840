"""Work a request starts and does not wait for (an import of a file): the app's runner does it.

A real server runs each job on a thread of its own and the page polls its progress. Tests give the
app a runner that does the job before the response returns, or keeps it until the test runs it, so
no test waits on a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

Job = Callable[[], None]


class Runner(Protocol):
    def start(self, name: str, job: Job) -> None:
        """Run ``job``, now or later; it reports its own failures (an import through its job
        row)."""


class ThreadRunner:
    """Each job on a daemon thread of its own: the request returns at once."""

    def start(self, name: str, job: Job) -> None:
        threading.Thread(target=job, name=name, daemon=True).start()
