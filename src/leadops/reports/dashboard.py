"""The dashboard's numbers: per person, today's and this month's touches, connects and
appointments (days and months in the organisation's time zone), with the month's targets of their
quotas (``cadence.quotas``). Counted as the ``kpis`` report counts them: a connect is a touch
connected or replied, an appointment an opportunity created with the person as its SDR; a quota's
month is a calendar month (the fiscal calendar shifts only quarters and years)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.cadence.quotas import list_quotas, month_after
from leadops.lifecycle.machine import CONNECTING
from leadops.models import Opportunity, Touch
from leadops.reports.base import rate

MEASURES = ("touches", "connects", "appointments")


@dataclass
class Tally:
    """One person's (or a team's) counts in a day and in a month, and the month's targets (None:
    no target set)."""

    user_id: int | None
    name: str
    today: Counter[str] = field(default_factory=Counter)
    month: Counter[str] = field(default_factory=Counter)
    targets: dict[str, float | None] = field(default_factory=dict)

    def attainment(self, measure: str) -> float | None:
        target = self.targets.get(measure)
        return rate(self.month[measure], target) if target is not None else None


@dataclass(frozen=True)
class Window:
    day: date
    month: date
    start: datetime
    end: datetime
    today_start: datetime


def window_of(now: datetime, tz: tzinfo) -> Window:
    """Today and this month in ``tz``: the month's first moment, its end and today's start."""
    today = now.astimezone(tz).date()
    first = today.replace(day=1)
    after = month_after(first)

    def moment(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=tz)

    return Window(today, first, moment(first), moment(after), moment(today))


def _counts(
    session: Session, ids: Sequence[int], window: Window
) -> dict[int, tuple[Counter[str], Counter[str]]]:
    out = {i: (Counter[str](), Counter[str]()) for i in ids}
    touches = select(Touch.user_id, Touch.at, Touch.outcome).where(
        Touch.user_id.in_(ids), Touch.at >= window.start, Touch.at < window.end
    )
    booked = select(Opportunity.sdr_id, Opportunity.created_at).where(
        Opportunity.sdr_id.in_(ids),
        Opportunity.created_at >= window.start,
        Opportunity.created_at < window.end,
    )
    tomorrow = window.today_start + timedelta(days=1)

    def add(user: int | None, at: datetime, measure: str) -> None:
        if user is None:
            return
        today, month = out[user]
        month[measure] += 1
        if window.today_start <= at < tomorrow:
            today[measure] += 1

    for user, at, outcome in session.execute(touches):
        add(user, at, "touches")
        if outcome in CONNECTING:
            add(user, at, "connects")
    for user, at in session.execute(booked):
        add(user, at, "appointments")
    return out


def _targets(quota: dict[str, object] | None) -> dict[str, float | None]:
    value = quota.get("appointments") if quota else None
    return {"appointments": float(value) if isinstance(value, (int, float)) else None}


def dashboard(
    session: Session,
    people: Sequence[tuple[int, str]],
    *,
    now: datetime,
    tz: tzinfo,
    team_ids: Sequence[int] = (),
) -> tuple[Window, list[Tally], Tally | None]:
    """Each of ``people`` (id, name) with their counts and targets; with ``team_ids``, also the
    total: the teams' own quotas as its target if any is set, else the sum of the members'."""
    window = window_of(now, tz)
    quotas = list_quotas(session, start=window.month, end=month_after(window.month))
    mine = {q["user_id"]: q for q in quotas if q["user_id"] is not None}
    counts = _counts(session, [i for i, _ in people], window)
    tallies = [Tally(i, name, *counts[i], targets=_targets(mine.get(i))) for i, name in people]
    if not team_ids:
        return window, tallies, None
    total = Tally(None, "")
    for tally in tallies:
        total.today.update(tally.today)
        total.month.update(tally.month)
    teams = [
        _targets(q)["appointments"]
        for q in quotas
        if q["subject"] == "team" and q["team_id"] in team_ids
    ]
    given = [v for v in teams if v is not None] or [
        v for t in tallies if (v := t.targets.get("appointments")) is not None
    ]
    total.targets = {"appointments": sum(given) if given else None}
    return window, tallies, total
