"""Group commit's coordination: requests that arrive while a group is written go together in the
next one, each answered with its own result; a group that fails is written again one request at a
time. The writes are stand-ins, so the test is about who writes what, and when."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from leadops.ingest.grouped import GroupCommit

#: Generous bounds on waits for a condition; they decide nothing, a hang fails instead of blocking.
BOUND_SECONDS = 60


def _until(condition: Any) -> None:
    deadline = time.monotonic() + BOUND_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


class _Writes:
    """Records each group and each lone write; the first write waits until released."""

    def __init__(self) -> None:
        self.groups: list[list[list[str]]] = []
        self.alone: list[list[str]] = []
        self.release = threading.Event()
        self.started = threading.Event()
        self.fail_groups = False

    def write(self, parts: list[Sequence[Any]]) -> list[dict[str, Any]]:
        return self._group(parts) if len(parts) > 1 else self._one(parts)

    def _group(self, parts: list[Sequence[Any]]) -> list[dict[str, Any]]:
        self.groups.append([list(p) for p in parts])
        if self.fail_groups:
            raise RuntimeError("the group as a whole fails")
        return [{"stored": list(p)} for p in parts]

    def _one(self, parts: list[Sequence[Any]]) -> list[dict[str, Any]]:
        self.started.set()
        self.release.wait(BOUND_SECONDS)
        items = list(parts[0])
        self.alone.append(items)
        if "bad" in items:
            raise ValueError(f"cannot store {items}")
        return [{"stored": items}]


def _post(writer: GroupCommit, items: list[str], out: dict[str, Any]) -> threading.Thread:
    def run() -> None:
        try:
            out[items[0]] = writer.submit(items)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            out[items[0]] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_posts_that_arrive_during_a_write_go_together_in_the_next_group() -> None:
    writes = _Writes()
    writer = GroupCommit(writes.write, max_items=10)
    answers: dict[str, Any] = {}
    first = _post(writer, ["a"], answers)
    writes.started.wait(BOUND_SECONDS)  # "a" is being written alone
    later = [_post(writer, [name], answers) for name in ("b", "c", "d")]
    _until(lambda: writer.waiting() == 3)
    writes.release.set()
    for thread in [first, *later]:
        thread.join(BOUND_SECONDS)
    assert writes.alone == [["a"]]
    assert writes.groups == [[["b"], ["c"], ["d"]]]
    assert answers == {name: {"stored": [name]} for name in "abcd"}


def test_a_group_holds_at_most_max_items() -> None:
    writes = _Writes()
    writer = GroupCommit(writes.write, max_items=3)
    answers: dict[str, Any] = {}
    first = _post(writer, ["a"], answers)
    writes.started.wait(BOUND_SECONDS)
    later = []
    for items in (["b", "b2"], ["c"], ["d"]):
        later.append(_post(writer, items, answers))
        queued = len(later)
        _until(lambda queued=queued: writer.waiting() == queued)  # in this order
    writes.release.set()
    for thread in [first, *later]:
        thread.join(BOUND_SECONDS)
    assert writes.groups == [[["b", "b2"], ["c"]]]
    assert writes.alone == [["a"], ["d"]]
    assert answers["b"] == {"stored": ["b", "b2"]}
    assert answers["d"] == {"stored": ["d"]}


def test_a_group_that_fails_is_written_again_one_request_at_a_time() -> None:
    writes = _Writes()
    writes.fail_groups = True
    writer = GroupCommit(writes.write, max_items=10)
    answers: dict[str, Any] = {}
    first = _post(writer, ["a"], answers)
    writes.started.wait(BOUND_SECONDS)
    later = [_post(writer, ["b"], answers), _post(writer, ["bad"], answers)]
    _until(lambda: writer.waiting() == 2)
    writes.release.set()
    for thread in [first, *later]:
        thread.join(BOUND_SECONDS)
    assert writes.groups == [[["b"], ["bad"]]]
    assert writes.alone == [["a"], ["b"], ["bad"]]
    assert answers["a"] == {"stored": ["a"]}
    assert answers["b"] == {"stored": ["b"]}
    assert isinstance(answers["bad"], ValueError)
    assert str(answers["bad"]) == "cannot store ['bad']"


def test_a_lone_post_is_written_at_once_and_an_error_stops_nothing() -> None:
    writes = _Writes()
    writes.release.set()
    writer = GroupCommit(writes.write, max_items=10)
    assert writer.submit(["x"]) == {"stored": ["x"]}
    assert writer.submit(["y"]) == {"stored": ["y"]}
    assert writes.groups == []
    assert writes.alone == [["x"], ["y"]]
    with pytest.raises(ValueError, match="bad"):
        writer.submit(["bad"])
    assert writer.submit(["z"]) == {"stored": ["z"]}  # an error leaves the writer writing
    assert writer.waiting() == 0


def test_a_post_nobody_waits_for_any_more_is_stored_and_the_writer_goes_on() -> None:
    writes = _Writes()
    writer = GroupCommit(writes.write, max_items=10)
    first = writer.enqueue(["a"])
    writes.started.wait(BOUND_SECONDS)
    gone = writer.enqueue(["gone"])
    assert gone.cancel()  # its request was cancelled while it waited
    kept = writer.enqueue(["kept"])
    writes.release.set()
    assert first.result(BOUND_SECONDS) == {"stored": ["a"]}
    assert kept.result(BOUND_SECONDS) == {"stored": ["kept"]}
    assert writes.groups == [[["gone"], ["kept"]]]
    assert asyncio.run(writer.submit_async(["async"])) == {"stored": ["async"]}
