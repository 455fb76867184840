"""``leadops worker``: the sweeps that behaviour over time needs, each a function of the database
and ``now``. Running a sweep twice at the same ``now`` does nothing the second time.

``run_forever`` sweeps now and then until it is told to stop; ``leadops worker`` runs it in its own
process and ``leadops serve`` in a thread of the server (``background``), unless ``--no-worker``.
Any number of workers may run against PostgreSQL at once (their sweeps claim rows with ``SKIP
LOCKED``); on SQLite they take turns at the write lock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from leadops.cadence.sweep import SlaOutcome, sweep_sla
from leadops.db import run_in_transaction
from leadops.delivery import DeliveryReport, deliver
from leadops.errors import Conflict
from leadops.ingest.jobs import pending, run_job
from leadops.pipeline import catch_up, sweep_due
from leadops.predict.schedule import PredictSweep, run_schedule
from leadops.reports.forecast import stored_model
from leadops.rules.service import active_rules
from leadops.runtime import Runtime

BATCH = 2000
log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    now: datetime
    #: Leads rescored under a rules version applied since the last sweep.
    rescored_leads: int = 0
    scored_leads: int = 0
    score_lines: int = 0
    sla: SlaOutcome = field(default_factory=SlaOutcome)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    #: The forecast's model for the day was learned by this sweep (it is learned once a day).
    forecast_model_learned: bool = False
    #: Import jobs taken up: queued ones, and ones whose process stopped (resumed).
    imports: int = 0
    predictions: PredictSweep = field(default_factory=PredictSweep)

    def summary(self) -> str:
        sla = self.sla
        return (
            f"sweep at {self.now.isoformat()}: {self.rescored_leads} leads rescored under the "
            f"active rules; decay/expiry on {self.scored_leads} leads, "
            f"{self.score_lines} lines; "
            f"SLA: {sla.reassigned} reassigned, {sla.to_manager} to a manager, {sla.escalated} "
            "escalated, "
            f"{sla.recycled} recycled, {sla.reminded} reminded; approach requests: "
            f"{sla.tasks_reminded} reminded, "
            f"{sla.tasks_escalated} escalated; follow-ups due: {sla.follow_ups_due}; "
            f"notifications: {self.delivery.sent} sent, "
            f"{self.delivery.failed} to "
            f"retry, {self.delivery.given_up} given up; forecast model: "
            f"{'learned' if self.forecast_model_learned else 'up to date'}; imports taken up: "
            f"{self.imports}; {self.predictions.summary()}"
        )


def run_once(rt: Runtime, now: datetime) -> SweepReport:
    report = SweepReport(now)
    try:  # a version applied from the web; a failure here must not stop the sweeps below
        report.rescored_leads = catch_up(rt.factory, now, chunk=BATCH).leads
    except Exception:  # noqa: BLE001 - logged; the next sweep tries again
        log.exception("rescoring under the active rules version failed")
    while True:
        outcome = run_in_transaction(
            rt.factory, lambda s: sweep_due(s, active_rules(s, now), now, limit=BATCH)
        )
        report.scored_leads += outcome.leads
        report.score_lines += outcome.lines
        if outcome.leads < BATCH:
            break
    while True:
        sla = run_in_transaction(
            rt.factory, lambda s: sweep_sla(s, active_rules(s, now), now, limit=BATCH)
        )
        report.sla.add(sla)
        if sla.actions < BATCH:
            break
    report.delivery = deliver(rt.factory, rt.settings, now, clock=rt.clock)
    with rt.factory() as session:
        closed = active_rules(session, now).closed_statuses
        _, report.forecast_model_learned = stored_model(session, now, rt.settings.tz, closed)
    report.imports = run_pending_imports(rt)
    report.predictions = run_schedule(rt.factory, rt.settings, now)
    return report


def run_pending_imports(rt: Runtime) -> int:
    """Import the jobs nobody runs: queued ones, and ones whose process stopped, from their last
    committed chunk. A job another worker takes first is left to it."""
    with rt.factory() as session:
        ids = pending(session, rt.clock.now())
    taken = 0
    for job_id in ids:
        try:
            run_job(rt.factory, rt.settings, rt.clock, job_id)
        except Conflict:
            continue  # another worker holds it now
        except Exception:  # noqa: BLE001 - kept on the job row; the next job still runs
            log.exception("import job %s failed", job_id)
        taken += 1
    return taken


def run_forever(
    rt: Runtime,
    stop: threading.Event,
    *,
    interval: float,
    on_sweep: Callable[[SweepReport], None] | None = None,
) -> None:
    """Sweep at once, then every ``interval`` seconds, until ``stop`` is set (it ends the wait at
    once). A sweep that fails is logged and tried again at the next tick: the sweeps are
    idempotent, so nothing is done twice or lost."""
    while not stop.is_set():
        try:
            report = run_once(rt, rt.clock.now())
        except Exception:  # noqa: BLE001 - the worker outlives a failed sweep, and says so
            log.exception("a sweep failed; it runs again at the next tick")
        else:
            if on_sweep is not None:
                on_sweep(report)
        stop.wait(interval)


@contextmanager
def background(
    rt: Runtime, *, interval: float, on_sweep: Callable[[SweepReport], None] | None = None
) -> Iterator[threading.Thread]:
    """The worker in a thread of this process while the block runs (``leadops serve``)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever,
        args=(rt, stop),
        kwargs={"interval": interval, "on_sweep": on_sweep},
        name="leadops-worker",
        daemon=True,
    )
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=interval + 60)
