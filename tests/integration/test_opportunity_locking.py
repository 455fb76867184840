"""Two processes updating one opportunity at once: the row is locked, so each update reads what
the other wrote and the history stays one unbroken chain (none is lost)."""

from __future__ import annotations

import multiprocessing

from sqlalchemy import select

from leadops.cadence.opportunities import OpportunityChange, update_opportunity
from leadops.cadence.service import book_appointment
from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.db import run_in_transaction
from leadops.lifecycle.door import Actor
from leadops.models import Opportunity, OpportunityEvent
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from tests.conftest import NOW
from tests.factories import make_lead, make_user

ROUNDS = 15
#: Each process moves the opportunity between stages of its own, so each update is a change.
STAGES = (("contacted", "follow_up"), ("proposal_draft", "proposal_sent"))


def _update(url: str, opportunity_id: int, worker: int) -> None:
    rt = Runtime.create(Settings(database_url=url), FixedClock(NOW))
    try:
        for i in range(ROUNDS):
            change = OpportunityChange(stage=STAGES[worker][i % 2], amount=float(worker * 100 + i))
            run_in_transaction(
                rt.factory,
                lambda s, change=change: update_opportunity(
                    s,
                    active_rules(s, NOW),
                    opportunity_id,
                    change,
                    actor=Actor("api", f"worker-{worker}"),
                    now=NOW,
                ),
            )
    finally:
        rt.close()


def test_two_processes_updating_one_opportunity(db_url: str, runtime: Runtime) -> None:
    with runtime.factory() as session, session.begin():
        lead = make_lead(session, runtime, email="race@maker.co.jp")
        rep = make_user(session, email="rep@maker.test")
        opportunity_id = book_appointment(
            session, active_rules(session, NOW), lead.id, user=rep, now=NOW
        ).opportunity_id
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_update, args=(db_url, opportunity_id, w)) for w in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        # The bound only keeps a deadlock from hanging the run (exit code None); it decides nothing.
        process.join(timeout=300)
    assert [p.exitcode for p in workers] == [0, 0]

    with runtime.factory() as session:
        events = list(
            session.scalars(
                select(OpportunityEvent)
                .where(OpportunityEvent.opportunity_id == opportunity_id)
                .order_by(OpportunityEvent.id)
            )
        )
        opp = session.get_one(Opportunity, opportunity_id)
    stages = [e for e in events if e.kind == "stage"]
    amounts = [e for e in events if e.kind == "amount"]
    assert len(stages) == 1 + 2 * ROUNDS  # the booking, then every update
    assert len(amounts) == 2 * ROUNDS
    for history, final in ((stages[1:], opp.stage), (amounts, f"{opp.amount:.2f}")):
        for before, after in zip(history, history[1:], strict=False):
            old = after.from_stage if after.kind == "stage" else after.from_value
            new = before.to_stage if before.kind == "stage" else before.to_value
            assert old == new, "an update did not see the one before it"
        last = history[-1]
        assert (last.to_stage if last.kind == "stage" else last.to_value) == final
    # Every event names the stage it left and the one it reached, in one chain.
    for before, after in zip(events, events[1:], strict=False):
        assert after.from_stage == before.to_stage
