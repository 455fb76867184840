"""Group commit for the API's activity posts: one writer thread stores them, and the posts that
arrive while it writes one group wait and go together in the next transaction: one lead lookup,
one insert, one pass of the pipeline and one commit for all of them. Each post is answered with its
own result, as if it had been stored alone just after the ones before it, once its group has
committed.

The requests do not hold a thread while they wait (``submit_async`` awaits the writer), so a group
is as large as what arrived during the last write, up to ``max_items``. A group that fails as a
whole (a race a retry did not settle, a bug one post's items trigger) is written again one post at
a time, so each post gets its own result or its own error.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from leadops.clock import Clock
from leadops.config import Settings
from leadops.db import run_in_transaction
from leadops.ingest.service import store_activity_groups

#: Writes one group in one transaction: the items of each post → each post's result (in order).
WriteGroup = Callable[[list[Sequence[Any]]], list[dict[str, Any]]]
_Post = tuple[Sequence[Any], "Future[dict[str, Any]]"]


class GroupCommit:
    """Posts in, results out; at most ``max_items`` items in one group (a post larger than that is
    a group of its own). The writer thread starts with the first post."""

    def __init__(self, write: WriteGroup, max_items: int) -> None:
        self._write_group = write
        self.max_items = max_items
        self._ready = threading.Condition()
        self._waiting: list[_Post] = []
        self._thread: threading.Thread | None = None

    def enqueue(self, items: Sequence[Any]) -> Future[dict[str, Any]]:
        """Queue ``items`` for the next group; the future holds this post's result (or error)
        once its group has committed."""
        future: Future[dict[str, Any]] = Future()
        with self._ready:
            self._waiting.append((items, future))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="leadops-api-writer", daemon=True
                )
                self._thread.start()
            self._ready.notify()
        return future

    def submit(self, items: Sequence[Any]) -> dict[str, Any]:
        return self.enqueue(items).result()

    async def submit_async(self, items: Sequence[Any]) -> dict[str, Any]:
        return await asyncio.wrap_future(self.enqueue(items))

    def waiting(self) -> int:
        """Posts queued behind the group being written."""
        with self._ready:
            return len(self._waiting)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._waiting:
                    self._ready.wait()
                group = [self._waiting.pop(0)]
                count = len(group[0][0])
                while self._waiting and count + len(self._waiting[0][0]) <= self.max_items:
                    count += len(self._waiting[0][0])
                    group.append(self._waiting.pop(0))
            try:
                self._write(group)
            except BaseException as exc:  # the thread stops (errors are each post's own)
                for _, future in group:
                    _settle(future, error=exc)
                with self._ready:
                    self._thread = None  # the next post starts a writer again
                raise

    def _write(self, group: list[_Post]) -> None:
        if len(group) > 1:
            try:
                results = self._write_group([items for items, _ in group])
            except Exception:  # noqa: BLE001 - each post is written again alone below
                pass
            else:
                for (_, future), result in zip(group, results, strict=True):
                    _settle(future, result=result)
                return
        for items, future in group:
            try:
                result = self._write_group([items])[0]
            except Exception as exc:  # noqa: BLE001 - raised again where the post waits
                _settle(future, error=exc)
            else:
                _settle(future, result=result)


def _settle(
    future: Future[dict[str, Any]],
    *,
    result: dict[str, Any] | None = None,
    error: BaseException | None = None,
) -> None:
    """The post's answer, unless nobody waits for it any more (its request was cancelled: what
    it sent is stored all the same, and sending it again changes nothing)."""
    if future.cancelled():
        return
    try:
        if error is not None:
            future.set_exception(error)
        else:
            assert result is not None
            future.set_result(result)
    except InvalidStateError:  # cancelled in between
        pass


def activity_writer(
    factory: sessionmaker[Session], settings: Settings, clock: Clock
) -> GroupCommit:
    """The group commit of ``POST /api/v1/activities``: each group one transaction (retried on a
    race like every API write), at the moment it is written."""

    def write(parts: list[Sequence[Any]]) -> list[dict[str, Any]]:
        now = clock.now()
        return run_in_transaction(
            factory, lambda s: store_activity_groups(s, settings, now, [list(p) for p in parts])
        )

    return GroupCommit(write, settings.max_batch_size)
