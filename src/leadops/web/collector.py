"""The server's garbage collection, for steady response times.

A full collection walks every object the process holds: a served leadops holds a few hundred
thousand once its caches are warm (compiled statements, rules, lookups), and a full pass over them
stops every request for 100-200 ms, each time the heap has grown by a quarter. After a full
collection, everything it found alive is frozen (``gc.freeze``), so the next full collections walk
only what was allocated since. Once an hour everything is unfrozen, so that the next full collection
walks all of it again and reclaims what died among the frozen objects (cycles that reference
counting cannot free).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

#: How often a full collection walks the whole heap again.
THAW_EVERY_SECONDS = 3600.0


class SteadyCollector:
    """A ``gc.callbacks`` entry: freezes what each full collection found alive, and unfreezes
    everything every ``thaw_every`` seconds."""

    def __init__(
        self,
        thaw_every: float = THAW_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.thaw_every, self.clock = thaw_every, clock
        self.thawed_at = clock()

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info.get("generation") != 2:
            return
        now = self.clock()
        if now - self.thawed_at >= self.thaw_every:
            gc.unfreeze()  # the next full collection walks everything again
            self.thawed_at = now
        else:
            gc.freeze()


def install() -> SteadyCollector:
    """Install the policy in this process (``leadops serve``), once."""
    for callback in gc.callbacks:
        if isinstance(callback, SteadyCollector):
            return callback
    collector = SteadyCollector()
    gc.callbacks.append(collector)
    return collector
