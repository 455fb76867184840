"""The server's collection policy: what a full collection finds alive is frozen, so the next ones
walk only what came after; everything is unfrozen again after the hour."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from leadops.web.collector import SteadyCollector, install


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_full_collection_freezes_what_it_found_alive(thawed: None) -> None:
    now = [0.0]
    policy = SteadyCollector(thaw_every=3600, clock=lambda: now[0])
    kept = [[n] for n in range(1000)]  # noqa: F841 - alive through the collection
    policy("stop", {"generation": 1})
    assert gc.get_freeze_count() == 0  # only full collections freeze
    policy("start", {"generation": 2})
    assert gc.get_freeze_count() == 0
    policy("stop", {"generation": 2})
    frozen = gc.get_freeze_count()
    assert frozen >= 1000
    now[0] = 3599.0
    policy("stop", {"generation": 2})
    assert gc.get_freeze_count() >= frozen
    now[0] = 3600.0
    policy("stop", {"generation": 2})  # the hour is up: everything is walked again
    assert gc.get_freeze_count() == 0
    now[0] = 3601.0
    policy("stop", {"generation": 2})
    assert gc.get_freeze_count() >= frozen


def test_installing_it_twice_installs_it_once(thawed: None) -> None:
    before = list(gc.callbacks)
    try:
        first = install()
        assert install() is first
        assert sum(isinstance(c, SteadyCollector) for c in gc.callbacks) == 1
    finally:
        gc.callbacks[:] = before
