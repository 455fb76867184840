"""The sign-in throttle holds across server processes: its failures are rows in the database, and
concurrent guesses take turns on their keys, so they stop at the limit together."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from leadops import auth
from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.runtime import Runtime
from leadops.throttle import Throttle
from tests.webapp import EMAILS, build_org

THROTTLE = Throttle(per_account=3, per_address=100, window=timedelta(minutes=15))


def test_concurrent_guesses_from_two_processes_stop_at_the_limit(
    db_url: str, runtime: Runtime, session: Any, clock: FixedClock
) -> None:
    build_org(session, runtime, leads=0)
    other = Runtime.create(Settings(database_url=db_url), clock)  # a second server's engine

    def guess(number: int) -> auth.SignIn:
        server = (runtime, other)[number % 2]
        return auth.sign_in(
            server.factory,
            EMAILS["member"],
            "a guessed password",
            address=f"192.0.2.{number}",
            now=clock.now(),
            throttle=THROTTLE,
            session_hours=8,
        )

    try:
        with ThreadPoolExecutor(max_workers=5) as pool:
            outcomes = list(pool.map(guess, range(10)))
    finally:
        other.close()
    checked = [o for o in outcomes if o.retry_after is None]
    throttled = [o for o in outcomes if o.retry_after is not None]
    assert len(checked) == 3
    assert all(o.secret is None for o in outcomes)
    assert {o.retry_after for o in throttled} == {900}
    assert len(throttled) == 7
