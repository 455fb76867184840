"""``leadops worker``: the sweeps that behaviour over time needs, each a function of the database
and ``now``. Running a sweep twice at the same ``now`` does nothing the second time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from leadops.scoring.service import sweep_due


@dataclass
class SweepReport:
    now: datetime
    scored_leads: int
    score_lines: int

    def summary(self) -> str:
        return f"sweep at {self.now.isoformat()}: decay/expiry on {self.scored_leads} leads, {self.score_lines} lines"


def run_once(rt: Runtime, now: datetime) -> SweepReport:
    leads = lines = 0
    while True:
        with rt.factory() as session, session.begin():
            outcome = sweep_due(session, active_rules(session, now), now, limit=2000)
        leads += outcome.leads
        lines += outcome.lines
        if outcome.leads < 2000:
            break
    return SweepReport(now, leads, lines)
