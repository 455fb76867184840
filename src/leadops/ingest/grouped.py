"""Group commit for the API's activity posts: requests that arrive while one group is being written
wait, and go together in the next transaction: one lead lookup, one insert, one pass of the
pipeline and one commit for all of them. Each request is answered with its own result, as if it
had been stored alone just after the ones before it, once its group has committed.

There is no writer thread: the first request to find nobody writing writes, and whoever is first
in line when a group is done writes the next one, so a lone request (a test client, a quiet
server) is written at once on its own thread, exactly as it would be without grouping. A group
that fails as a whole (a race a retry did not settle, a bug one request's items trigger) is
written again one request at a time, so each request gets its own result or its own error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from leadops.clock import Clock
from leadops.config import Settings
from leadops.db import run_in_transaction
from leadops.ingest.service import store_activities, store_activity_groups

#: Writes one group: the items of each request → each request's result (in the same order).
WriteGroup = Callable[[list[Sequence[Any]]], list[dict[str, Any]]]


@dataclass(eq=False)
class _Request:
    items: Sequence[Any]
    done: threading.Event = field(default_factory=threading.Event)
    #: Set when the request is handed the writing of the next group instead of its answer.
    leads: bool = False
    result: dict[str, Any] | None = None
    error: BaseException | None = None

    def answer(self) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class GroupCommit:
    """Requests in, results out; at most ``max_items`` items in one group (a request larger than
    that is a group of its own)."""

    def __init__(self, write_group: WriteGroup, write_one: WriteGroup, max_items: int) -> None:
        self._write_group, self._write_one = write_group, write_one
        self.max_items = max_items
        self._lock = threading.Lock()
        self._waiting: list[_Request] = []
        self._writing = False
        #: How many requests each group held, the latest last (a few, for tests and figures).
        self.sizes: list[int] = []

    def submit(self, items: Sequence[Any]) -> dict[str, Any]:
        """Store ``items`` with whatever else is waiting; returns this request's result (or
        raises its error) once its group has committed."""
        me = _Request(items)
        with self._lock:
            self._waiting.append(me)
            lead = not self._writing
            self._writing = True
        if not lead:
            me.done.wait()
            if not me.leads:
                return me.answer()
        self._write_next()
        return me.answer()

    def waiting(self) -> int:
        """Requests queued behind the group being written."""
        with self._lock:
            return len(self._waiting)

    def _write_next(self) -> None:
        """Write the next group (it starts with the caller's own request), answer its requests,
        then hand the writing on to the first request still waiting, if any."""
        with self._lock:
            group = [self._waiting.pop(0)]
            count = len(group[0].items)
            while self._waiting and count + len(self._waiting[0].items) <= self.max_items:
                count += len(self._waiting[0].items)
                group.append(self._waiting.pop(0))
        try:
            self._write(group)
        finally:
            with self._lock:
                self.sizes = [*self.sizes[-99:], len(group)]
                if self._waiting:
                    following = self._waiting[0]
                    following.leads = True
                    following.done.set()
                else:
                    self._writing = False
            for request in group:
                request.done.set()

    def _write(self, group: list[_Request]) -> None:
        if len(group) > 1:
            try:
                results = self._write_group([r.items for r in group])
            except Exception:  # noqa: BLE001 - each request is written again alone below
                pass
            else:
                for request, result in zip(group, results, strict=True):
                    request.result = result
                return
        for request in group:
            try:
                request.result = self._write_one([request.items])[0]
            except BaseException as exc:  # noqa: BLE001 - raised again in the request's thread
                request.error = exc


def activity_writer(
    factory: sessionmaker[Session], settings: Settings, clock: Clock
) -> GroupCommit:
    """The group commit of ``POST /api/v1/activities``: each group one transaction (retried on a
    race like every API write), at the moment it is written."""

    def write_group(parts: list[Sequence[Any]]) -> list[dict[str, Any]]:
        now = clock.now()
        return run_in_transaction(
            factory, lambda s: store_activity_groups(s, settings, now, [list(p) for p in parts])
        )

    def write_one(parts: list[Sequence[Any]]) -> list[dict[str, Any]]:
        now = clock.now()
        items = list(parts[0])
        return [run_in_transaction(factory, lambda s: store_activities(s, settings, now, items))]

    return GroupCommit(write_group, write_one, settings.max_batch_size)
